/* cpu_levels: runs compiled models through libaxr's C ABI at the process's CPU level
 * (AXR_CPU) and writes every output to OUTDIR, for scripts/test.d/cpu_levels.sh, which
 * compares the bytes across levels and runs the baseline level under valgrind.
 *
 *   cpu_levels OUTDIR MODEL_DIR...
 *
 * A model dir holds model.json; its inputs are cases/in_<case>_<i>.bin when present
 * (and then the outputs must equal cases/out_<case>_<i>.bin), else one case of
 * pseudo-random bytes. Prints "level <name>" and one line per model; exits 1 on a
 * mismatch or an error, 3 when loading refuses the level (the message on stderr).
 * CPU_LEVELS_HOST_THREADS=N loads the instances with host_threads=N (every convolution
 * and table split over N threads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "axruntime.h"

static unsigned char* readAll(const char* path, size_t* len) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char* b = malloc(n > 0 ? (size_t)n : 1);
  if (fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
  fclose(f);
  *len = (size_t)n;
  return b;
}

static int writeAll(const char* path, const void* b, size_t n) {
  FILE* f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(b, 1, n, f);
  fclose(f);
  return w == n ? 0 : -1;
}

int main(int argc, char** argv) {
  printf("host cpu %s\n", axr_ext_host_cpu());
  if (argc < 3) {
    fprintf(stderr, "usage: cpu_levels OUTDIR MODEL_DIR...\n");
    return 2;
  }
  axrContext* ctx = axr_create_context();
  axrConnection* conn = axr_device_connect(ctx, NULL, 1, NULL);
  if (!conn) {
    fprintf(stderr, "connect: %s\n", axr_last_error_string((axrObject*)ctx));
    return 1;
  }
  int bad = 0;
  char path[4096];
  for (int m = 2; m < argc; m++) {
    /* zeroed: std.mem.span scans C strings in aligned 16-byte blocks, past the NUL
     * (harmless, within the page), which memcheck reports when those bytes were
     * never written */
    memset(path, 0, sizeof path);
    snprintf(path, sizeof path, "%s/model.json", argv[m]);
    axrModel* model = axr_load_model(ctx, path);
    if (!model) {
      fprintf(stderr, "%s\n", axr_last_error_string((axrObject*)ctx));
      axr_destroy((axrObject*)ctx);
      return 3;
    }
    const char* threads = getenv("CPU_LEVELS_HOST_THREADS");
    axrProperties* props = NULL;
    if (threads && *threads) {
      char kv[64] = {0}; /* zeroed, as path below */
      snprintf(kv, sizeof kv, "host_threads=%s", threads);
      props = axr_create_properties(ctx, kv);
    }
    axrModelInstance* inst = axr_load_model_instance(conn, model, props);
    if (!inst) {
      fprintf(stderr, "instance: %s\n", axr_last_error_string((axrObject*)conn));
      return 1;
    }
    size_t ni = axr_num_model_inputs(model), no = axr_num_model_outputs(model);
    axrArgument* ins = calloc(ni, sizeof *ins);
    axrArgument* outs = calloc(no, sizeof *outs);
    for (size_t i = 0; i < no; i++) {
      axrTensorInfo t;
      axr_ext_get_model_output(model, i, &t);
      outs[i].size = axr_tensor_size(&t);
      outs[i].ptr = malloc(outs[i].size);
    }
    int cases = 0;
    for (int c = 0;; c++) {
      int have = 1;
      for (size_t i = 0; i < ni; i++) {
        axrTensorInfo t;
        axr_ext_get_model_input(model, i, &t);
        size_t want = axr_tensor_size(&t), len = 0;
        snprintf(path, sizeof path, "%s/cases/in_%d_%zu.bin", argv[m], c, i);
        unsigned char* b = readAll(path, &len);
        if (!b && c == 0 && i == 0) { /* no cases: pseudo-random bytes */
          b = malloc(want);
          unsigned s = 12345;
          for (size_t k = 0; k < want; k++) b[k] = (unsigned char)((s = s * 1103515245u + 12345u) >> 16);
          len = want;
          have = 2;
        } else if (!b) {
          have = 0;
          break;
        }
        if (len != want) {
          fprintf(stderr, "%s: input %zu has %zu bytes, expected %zu\n", path, i, len, want);
          return 1;
        }
        free(ins[i].ptr);
        ins[i].ptr = b;
        ins[i].size = want;
      }
      if (!have || (c > 0 && have == 2)) break;
      if (axr_run_model_instance(inst, ins, ni, outs, no) != AXR_SUCCESS) {
        fprintf(stderr, "run: %s\n", axr_last_error_string((axrObject*)inst));
        return 1;
      }
      for (size_t i = 0; i < no; i++) {
        const char* base = strrchr(argv[m], '/');
        snprintf(path, sizeof path, "%s/%s_%d_%zu.bin", argv[1], base ? base + 1 : argv[m], c, i);
        if (writeAll(path, outs[i].ptr, outs[i].size) != 0) {
          fprintf(stderr, "cannot write %s\n", path);
          return 1;
        }
        size_t glen = 0;
        snprintf(path, sizeof path, "%s/cases/out_%d_%zu.bin", argv[m], c, i);
        unsigned char* g = readAll(path, &glen);
        if (g && (glen != outs[i].size || memcmp(g, outs[i].ptr, glen) != 0)) {
          fprintf(stderr, "%s: case %d output %zu differs from the golden output\n", argv[m], c, i);
          bad = 1;
        }
        free(g);
      }
      cases++;
      if (have == 2) break;
    }
    printf("%s: %d case(s) %s; stats %.*s\n", argv[m], cases, bad ? "DIFFER" : "ok", 400, axr_ext_instance_stats(inst));
    for (size_t i = 0; i < ni; i++) free(ins[i].ptr);
    for (size_t i = 0; i < no; i++) free(outs[i].ptr);
    free(ins);
    free(outs);
  }
  axr_destroy((axrObject*)ctx);
  return bad;
}
