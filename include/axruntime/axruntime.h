/*
 * <axruntime/axruntime.h>: the C ABI of libaxruntime (the @axelera/runtime native
 * library, an emulated Metis device; also installed as libaxr.so).
 *
 * Same names, layouts and result codes as Axelera's libaxruntime, so that C and C++
 * applications written for the card build and run unchanged on the emulator, and
 * the TypeScript layer can load either library. Clean as C99 and as C++17.
 * Layouts below are for LP64 (x86_64 and aarch64 Linux): size_t is 8 bytes, int and
 * enums are 4 bytes. Byte offsets are given in comments; ffi/structs.ts reads them.
 * ffi/symbols.ts must declare every function below (tests/c_header.test.ts checks).
 *
 * Build: cc app.c $(pkg-config --cflags --libs axruntime)   (see docs/c.md)
 *
 * Functions marked "extension" are ours, not the vendor's; the TypeScript
 * layer must work without them (it checks with dlsym-style optional loading).
 */
#ifndef AXRUNTIME_AXRUNTIME_H
#define AXRUNTIME_AXRUNTIME_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AXR_API_VERSION 1u

typedef struct axrObject axrObject;           /* base of every handle */
typedef struct axrContext axrContext;
typedef struct axrConnection axrConnection;
typedef struct axrModel axrModel;
typedef struct axrModelInstance axrModelInstance;
typedef struct axrProperties axrProperties;

/* Any handle as the axrObject* that axr_destroy, axr_get_context and the error
 * functions take: axr_destroy(AXR_OBJECT(props)). */
#define AXR_OBJECT(x) ((axrObject*)(x))

typedef enum axrResult {
  AXR_SUCCESS = 0,
  AXR_ERROR_RUNTIME_ERROR = 1,
  AXR_ERROR_VALUE_ERROR = 2,
  AXR_ERROR_INVALID_ARGUMENT = 3,
  AXR_ERROR_CONNECTION_ERROR = 4,
  AXR_ERROR_DEVICE_IN_USE = 5,
  AXR_ERROR_INCOMPATIBLE_DEVICE = 6,
  AXR_ERROR_INVALID_CONFIGURATION = 7,
  AXR_ERROR_NOT_IMPLEMENTED = 8,
  AXR_ERROR_INTERNAL_ERROR = 9,
  AXR_ERROR_PENDING_ERROR = 10,
  AXR_ERROR_UNKNOWN_ERROR = 11,
} axrResult;

typedef enum axrLogLevel {
  AXR_LOG_TRACE = 0,
  AXR_LOG_LOG = 1,
  AXR_LOG_DEBUG = 2,
  AXR_LOG_INFO = 3,
  AXR_LOG_FIXME = 4,
  AXR_LOG_WARNING = 5,
  AXR_LOG_ERROR = 6,
} axrLogLevel;

typedef enum axrBoardType {
  AXR_BOARD_TYPE_ALPHA_PCIE = 0,
  AXR_BOARD_TYPE_ALPHA_M2 = 1,
  AXR_BOARD_TYPE_PCIE = 2,
  AXR_BOARD_TYPE_M2 = 3,
  AXR_BOARD_TYPE_DEVBOARD = 4,
  AXR_BOARD_TYPE_SBC = 5,
  AXR_BOARD_TYPE_UNKNOWN = 6,
} axrBoardType;

typedef enum axrTensorType {
  AXR_TENSOR_UNSIGNED = 0,
  AXR_TENSOR_SIGNED = 1,
  AXR_TENSOR_FLOAT = 2,
} axrTensorType;

#define AXR_MAX_DIMS 8
#define AXR_NAME_SIZE 256

/* 32 bytes. fd is a dmabuf/memfd descriptor; 0 or -1 means a host pointer.
 * offset must be 0. size, when not 0, must equal the tensor's byte size. */
typedef struct axrArgument {
  void* ptr;      /* @0  */
  int fd;         /* @8  */
  size_t offset;  /* @16 */
  size_t size;    /* @24 */
} axrArgument;

/* 488 bytes. */
typedef struct axrTensorInfo {
  size_t dims[AXR_MAX_DIMS];       /* @0   */
  size_t ndims;                    /* @64  */
  size_t bits;                     /* @72  */
  int type;                        /* @80  axrTensorType */
  char name[AXR_NAME_SIZE];        /* @84  NUL-terminated */
  size_t padding[AXR_MAX_DIMS][2]; /* @344 (begin, end) per dim */
  double scale;                    /* @472 */
  int zero_point;                  /* @480 */
} axrTensorInfo;

/* 1568 bytes. */
typedef struct axrDeviceInfo {
  char name[AXR_NAME_SIZE];                              /* @0    "metis-0:1:0" */
  size_t subdevice_count;                                /* @256  */
  size_t max_memory;                                     /* @264  */
  int in_use;                                            /* @272  sub-devices in use */
  char in_use_by[AXR_NAME_SIZE];                         /* @276  "user:pid,user:pid" */
  axrBoardType board_type;                               /* @532  */
  char firmware_version[AXR_NAME_SIZE];                  /* @536  */
  int board_revision;                                    /* @792  */
  char flashed_firmware_version[AXR_NAME_SIZE];          /* @796  */
  char board_controller_firmware_version[AXR_NAME_SIZE]; /* @1052 */
  char board_controller_board_type[AXR_NAME_SIZE];       /* @1308 */
} axrDeviceInfo;

/* Called from any thread; msg is valid only during the call. */
typedef void (*axr_logger_fn)(void* arg, axrLogLevel level, const char* msg);

unsigned axr_api_version(void);
axrContext* axr_create_context(void); /* never NULL */
void axr_destroy(const axrObject* obj); /* NULL is a no-op; destroys children */
axrContext* axr_get_context(axrObject* obj);
axrResult axr_last_error(const axrObject* obj);
const char* axr_last_error_string(const axrObject* obj);
const char* axr_error_string(axrResult result);
const char* axr_board_type_string(axrBoardType board_type);
void axr_set_logger(axrContext* ctx, axrLogLevel level, axr_logger_fn fn, void* arg);

size_t axr_list_devices(axrContext* ctx, axrDeviceInfo** devices); /* array owned by ctx */
axrResult axr_configure_device(axrContext* ctx, axrDeviceInfo* device, axrProperties* props);
axrResult axr_device_ready(axrContext* ctx, axrDeviceInfo* device);
axrProperties* axr_read_device_configuration(axrContext* ctx, axrDeviceInfo* device);
axrConnection* axr_device_connect(axrContext* ctx, axrDeviceInfo* device /* NULL: first */,
                                  size_t num_sub_devices, axrProperties* props);

axrModel* axr_load_model(axrContext* ctx, const char* path /* model.json */);
size_t axr_num_model_inputs(axrModel* model);
size_t axr_num_model_outputs(axrModel* model);
axrTensorInfo axr_get_model_input(axrModel* model, size_t n);
axrTensorInfo axr_get_model_output(axrModel* model, size_t n);
axrProperties* axr_get_model_properties(axrModel* model);

axrModelInstance* axr_load_model_instance(axrConnection* conn, axrModel* model,
                                          axrProperties* props /* NULL: defaults */);
axrResult axr_run_model_instance(axrModelInstance* inst, axrArgument* inputs, size_t n_inputs,
                                 axrArgument* outputs, size_t n_outputs);

size_t axr_tensor_size(const axrTensorInfo* info);

axrProperties* axr_create_properties(axrContext* ctx, const char* initial /* "k=v;k=v" */);
const char* axr_get_property(axrProperties* props, const char* key); /* NULL if absent */
void axr_set_property(axrProperties* props, const char* key, const char* value);
void axr_del_property(axrProperties* props, const char* key);
const char* axr_list_properties(axrProperties* props); /* keys, ';'-separated */

/* ---- extensions (libaxr only) ------------------------------------------ */

/* Same as axr_get_model_input/output but writes through a pointer: for FFI
 * layers without struct returns. AXR_ERROR_INVALID_ARGUMENT if n is out of range. */
axrResult axr_ext_get_model_input(axrModel* model, size_t n, axrTensorInfo* out);
axrResult axr_ext_get_model_output(axrModel* model, size_t n, axrTensorInfo* out);

/* JSON text describing the instance's last run, owned by the instance, valid
 * until the next call on it:
 * {"runs":N,"last_host_ns":H,"last_compute_ns":C,"last_device_cycles":K,
 *  "last_device_us":U,"sub_devices":[ids],"clock_mhz":[..],"mvm_utilisation":[..],
 *  "ops":[{"name":..,"op":..,"cycles":..,"start_cycle":..,"macs":..,"core":..}]}
 * sub_devices are the instance's sub-devices (round robin over the connection's);
 * clock_mhz[i] and mvm_utilisation[i] belong to sub_devices[i]; an op's "core" is
 * the sub-device id that ran it.
 * "ops" is filled only with device_profiling=1; host spans only with host_profiling=1
 * ("host":[{"name":..,"start_ns":..,"dur_ns":..}]). */
const char* axr_ext_instance_stats(axrModelInstance* inst);

/* JSON text naming the host CPU level the emulator's kernels run at (static):
 * {"level":"vnni","native":"vbmi","levels":["baseline","avx2",..],"error":null}
 * "level" is "" and "error" says why when AXR_CPU names a level the CPU lacks
 * (then loading a model fails with the same message). */
const char* axr_ext_host_cpu(void);

#ifdef __cplusplus
}
#endif

#endif /* AXRUNTIME_AXRUNTIME_H */
