/*
 * tests/fuzz/driver.c: loads model directories through the C ABI of libaxr.so, for
 * running fuzz mutants under valgrind (no JavaScript engine in the way):
 *
 *   zig cc -O1 -g -Iinclude tests/fuzz/driver.c -ldl -o /tmp/axr-fuzz-driver
 *   tests/fuzz/main.ts --cases 300 --keep /tmp/mutants
 *   valgrind --error-exitcode=99 /tmp/axr-fuzz-driver zig-out/lib/libaxr.so /tmp/mutants/x/model.json...
 *
 * For each path: axr_load_model; when it loads, an instance and one run on zeroed
 * buffers. Prints one line per path (ok or the library's error) and exits 0; memory
 * errors are valgrind's to report.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include "axruntime.h"

#define SYM(name) typeof(&name) p_##name = (typeof(&name))dlsym(lib, #name); if (!p_##name) { fprintf(stderr, "missing %s\n", #name); return 2; }

int main(int argc, char** argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s LIB model.json...\n", argv[0]); return 2; }
  void* lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 2; }
  SYM(axr_create_context) SYM(axr_destroy) SYM(axr_load_model) SYM(axr_last_error_string)
  SYM(axr_device_connect) SYM(axr_load_model_instance) SYM(axr_run_model_instance)
  SYM(axr_num_model_inputs) SYM(axr_num_model_outputs) SYM(axr_ext_get_model_input)
  SYM(axr_ext_get_model_output) SYM(axr_tensor_size)
  axrContext* ctx = p_axr_create_context();
  axrConnection* conn = p_axr_device_connect(ctx, NULL, 1, NULL);
  if (!conn) { fprintf(stderr, "connect: %s\n", p_axr_last_error_string((axrObject*)ctx)); return 2; }
  for (int i = 2; i < argc; i++) {
    axrModel* m = p_axr_load_model(ctx, argv[i]);
    if (!m) { printf("%s: %s\n", argv[i], p_axr_last_error_string((axrObject*)ctx)); continue; }
    axrModelInstance* inst = p_axr_load_model_instance(conn, m, NULL);
    if (inst) {
      size_t ni = p_axr_num_model_inputs(m), no = p_axr_num_model_outputs(m);
      axrArgument* in = calloc(ni, sizeof *in);
      axrArgument* out = calloc(no, sizeof *out);
      for (size_t k = 0; k < ni; k++) { axrTensorInfo t; p_axr_ext_get_model_input(m, k, &t); in[k].ptr = calloc(1, p_axr_tensor_size(&t)); }
      for (size_t k = 0; k < no; k++) { axrTensorInfo t; p_axr_ext_get_model_output(m, k, &t); out[k].ptr = calloc(1, p_axr_tensor_size(&t)); }
      axrResult r = p_axr_run_model_instance(inst, in, ni, out, no);
      printf("%s: loaded, run %d\n", argv[i], (int)r);
      for (size_t k = 0; k < ni; k++) free(in[k].ptr);
      for (size_t k = 0; k < no; k++) free(out[k].ptr);
      free(in); free(out);
    } else printf("%s: instance: %s\n", argv[i], p_axr_last_error_string((axrObject*)conn));
    p_axr_destroy((axrObject*)m);
  }
  p_axr_destroy((axrObject*)ctx);
  return 0;
}
