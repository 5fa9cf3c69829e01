/*
 * tests/c/bad_input.c: bad input from C gives the documented error code and message
 * (docs/c.md, "Bad input"), never a crash. Run by scripts/test.d/c.sh:
 *
 *   cc -std=c99 tests/c/bad_input.c $(pkg-config --cflags --libs axruntime)
 *   ./a.out tests/fixtures/tiny/model.json
 *
 * Prints "ok ..." or "FAIL ..." per check and "c-api: N passed, M failed" last.
 */
#include <axruntime/axruntime.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void check(int cond, const char* what, const char* detail) {
  if (cond) {
    passed++;
    printf("ok   %s\n", what);
  } else {
    failed++;
    printf("FAIL %s (%s)\n", what, detail ? detail : "");
  }
}

/* The handle's last error is `code` and its message contains `needle`. */
static void expect_error(const void* h, axrResult code, const char* needle, const char* what) {
  char detail[600];
  axrResult got = axr_last_error(AXR_OBJECT(h));
  const char* msg = axr_last_error_string(AXR_OBJECT(h));
  snprintf(detail, sizeof detail, "got %d '%s', want %d containing '%s'", (int)got, msg ? msg : "(null)", (int)code,
           needle);
  check(got == code && msg && strstr(msg, needle), what, detail);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s model.json\n", argv[0]);
    return 2;
  }

  /* NULL handles */
  axr_destroy(NULL);
  check(axr_last_error(NULL) == AXR_ERROR_INVALID_ARGUMENT, "axr_last_error(NULL) is AXR_ERROR_INVALID_ARGUMENT", NULL);
  check(strcmp(axr_last_error_string(NULL), "NULL handle") == 0, "axr_last_error_string(NULL) is 'NULL handle'", NULL);
  check(axr_get_context(NULL) == NULL, "axr_get_context(NULL) is NULL", NULL);
  check(axr_load_model(NULL, argv[1]) == NULL, "axr_load_model(NULL ctx) is NULL", NULL);
  check(axr_device_connect(NULL, NULL, 1, NULL) == NULL, "axr_device_connect(NULL ctx) is NULL", NULL);
  check(axr_create_properties(NULL, "a=1") == NULL, "axr_create_properties(NULL ctx) is NULL", NULL);
  check(axr_run_model_instance(NULL, NULL, 0, NULL, 0) == AXR_ERROR_INVALID_ARGUMENT,
        "axr_run_model_instance(NULL) is AXR_ERROR_INVALID_ARGUMENT", NULL);
  check(axr_num_model_inputs(NULL) == 0, "axr_num_model_inputs(NULL) is 0", NULL);
  check(axr_get_property(NULL, "a") == NULL, "axr_get_property(NULL) is NULL", NULL);
  axr_set_property(NULL, "a", "1");
  axr_del_property(NULL, "a");
  check(axr_tensor_size(NULL) == 0, "axr_tensor_size(NULL) is 0", NULL);
  axrTensorInfo none = axr_get_model_input(NULL, 0);
  check(none.ndims == 0 && none.name[0] == 0, "axr_get_model_input(NULL) is a zeroed axrTensorInfo", NULL);

  axrContext* ctx = axr_create_context();
  check(ctx != NULL, "axr_create_context", NULL);
  check(axr_load_model(ctx, NULL) == NULL, "axr_load_model(ctx, NULL path) is NULL", NULL);
  expect_error(ctx, AXR_ERROR_INVALID_ARGUMENT, "model path is NULL", "axr_load_model(NULL path): error on the context");

  /* property strings */
  check(axr_create_properties(ctx, "aipu_cores=1;num_sub_devices=1;aipu_cores=2") == NULL,
        "a duplicate property key is refused", NULL);
  expect_error(ctx, AXR_ERROR_INVALID_ARGUMENT, "property 'aipu_cores' is given twice", "duplicate key: message names it");
  check(axr_create_properties(ctx, "aipu_cores") == NULL, "a property without '=' is refused", NULL);
  expect_error(ctx, AXR_ERROR_INVALID_ARGUMENT, "'aipu_cores' has no '='", "missing '=': message names it");
  axrProperties* nl = axr_create_properties(ctx, "input_dmabuf=0\nnum_sub_devices = 1\naipu_cores= 1\ndouble_buffer=0\n");
  check(nl && strcmp(axr_list_properties(nl), "input_dmabuf;num_sub_devices;aipu_cores;double_buffer") == 0 &&
            strcmp(axr_get_property(nl, "aipu_cores"), "1") == 0,
        "newline-separated properties with spaces and a trailing newline", nl ? axr_list_properties(nl) : "NULL");

  /* destroyed handles */
  axrProperties* gone = axr_create_properties(ctx, "a=1");
  axr_destroy(AXR_OBJECT(gone));
  check(axr_get_property(gone, "a") == NULL, "axr_get_property(destroyed) is NULL", NULL);
  check(axr_last_error(AXR_OBJECT(gone)) == AXR_ERROR_INVALID_ARGUMENT, "axr_last_error(destroyed) is INVALID_ARGUMENT",
        NULL);
  check(strcmp(axr_last_error_string(AXR_OBJECT(gone)), "invalid or destroyed handle") == 0,
        "axr_last_error_string(destroyed) is 'invalid or destroyed handle'", NULL);
  axr_destroy(AXR_OBJECT(gone)); /* twice: a no-op */
  check(1, "axr_destroy twice is a no-op", NULL);

  axrModel* model = axr_load_model(ctx, argv[1]);
  check(model != NULL, "axr_load_model", axr_last_error_string(AXR_OBJECT(ctx)));
  axrConnection* conn = axr_device_connect(ctx, NULL, 1, NULL);
  check(conn != NULL, "axr_device_connect", axr_last_error_string(AXR_OBJECT(ctx)));
  if (!model || !conn) {
    axr_destroy(AXR_OBJECT(ctx));
    printf("c-api: %d passed, %d failed\n", passed, failed);
    return 1;
  }
  check(axr_get_context(AXR_OBJECT(model)) == ctx, "axr_get_context(model) is its context", NULL);

  /* instance properties: unknown key, bad value */
  axrProperties* bad = axr_create_properties(ctx, "turbo=1");
  check(axr_load_model_instance(conn, model, bad) == NULL, "an unknown instance property is refused", NULL);
  expect_error(conn, AXR_ERROR_INVALID_ARGUMENT, "unknown model instance property 'turbo'", "unknown key: message names it");
  axr_set_property(bad, "turbo", NULL); /* NULL value deletes */
  axr_set_property(bad, "aipu_cores", "9");
  check(axr_load_model_instance(conn, model, bad) == NULL, "a bad instance property value is refused", NULL);
  expect_error(ctx, AXR_ERROR_INVALID_ARGUMENT, "aipu_cores=9", "bad value: message names key and value");
  axrProperties* dead = axr_create_properties(ctx, "aipu_cores=1");
  axr_destroy(AXR_OBJECT(dead));
  check(axr_load_model_instance(conn, model, dead) == NULL, "destroyed properties handle is refused", NULL);
  expect_error(ctx, AXR_ERROR_INVALID_ARGUMENT, "properties handle is invalid or destroyed", "destroyed properties: message");

  axrModelInstance* inst = axr_load_model_instance(conn, model, nl);
  check(inst != NULL, "axr_load_model_instance with the newline-separated properties",
        axr_last_error_string(AXR_OBJECT(ctx)));
  if (inst) {
    axrTensorInfo ti = axr_get_model_input(model, 0), to = axr_get_model_output(model, 0);
    void* in_buf = calloc(1, axr_tensor_size(&ti));
    void* out_buf = calloc(1, axr_tensor_size(&to));
    axrArgument in = {in_buf, 0, 0, 0}, out = {out_buf, 0, 0, 0}, two[2] = {{in_buf, 0, 0, 0}, {in_buf, 0, 0, 0}};
    axrArgument null_in = {NULL, 0, 0, 0};

    check(axr_run_model_instance(inst, &null_in, 1, &out, 1) == AXR_ERROR_INVALID_ARGUMENT,
          "a NULL axrArgument.ptr with fd 0 is AXR_ERROR_INVALID_ARGUMENT", NULL);
    expect_error(inst, AXR_ERROR_INVALID_ARGUMENT, "input 0 'input': ptr is NULL", "NULL ptr: message names the input");
    check(axr_run_model_instance(inst, two, 2, &out, 1) == AXR_ERROR_INVALID_ARGUMENT,
          "two inputs for a one-input model is AXR_ERROR_INVALID_ARGUMENT", NULL);
    expect_error(inst, AXR_ERROR_INVALID_ARGUMENT, "expected 1 input(s), got 2", "wrong input count: message");
    check(axr_run_model_instance(inst, &in, 1, &out, 0) == AXR_ERROR_INVALID_ARGUMENT,
          "no outputs is AXR_ERROR_INVALID_ARGUMENT", NULL);
    expect_error(inst, AXR_ERROR_INVALID_ARGUMENT, "expected 1 output(s), got 0", "wrong output count: message");
    check(axr_run_model_instance(inst, NULL, 1, &out, 1) == AXR_ERROR_INVALID_ARGUMENT,
          "a NULL argument array is AXR_ERROR_INVALID_ARGUMENT", NULL);
    expect_error(inst, AXR_ERROR_INVALID_ARGUMENT, "inputs is NULL", "NULL array: message");
    in.size = 3;
    check(axr_run_model_instance(inst, &in, 1, &out, 1) == AXR_ERROR_INVALID_ARGUMENT,
          "a wrong axrArgument.size is AXR_ERROR_INVALID_ARGUMENT", NULL);
    in.size = 0;
    check(axr_run_model_instance(inst, &in, 1, &out, 1) == AXR_SUCCESS, "a good run after the bad ones",
          axr_last_error_string(AXR_OBJECT(inst)));
    check(axr_get_model_input(model, 5).ndims == 0, "axr_get_model_input out of range is zeroed", NULL);
    expect_error(model, AXR_ERROR_INVALID_ARGUMENT, "input 5 is out of range (the model has 1)", "out of range: message");

    axr_destroy(AXR_OBJECT(inst));
    check(axr_run_model_instance(inst, &in, 1, &out, 1) == AXR_ERROR_INVALID_ARGUMENT,
          "axr_run_model_instance(destroyed instance) is AXR_ERROR_INVALID_ARGUMENT", NULL);
    free(in_buf);
    free(out_buf);
  }
  axr_destroy(AXR_OBJECT(ctx));
  check(axr_load_model(ctx, argv[1]) == NULL, "axr_load_model(destroyed context) is NULL", NULL);
  check(axr_last_error(AXR_OBJECT(model)) == AXR_ERROR_INVALID_ARGUMENT, "children of a destroyed context are gone",
        NULL);
  printf("c-api: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
