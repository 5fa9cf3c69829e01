/*
 * bench/probes/gemm_mul_add.c: what a native kernel would do for the graph runner's large
 * float32 products, with the runner's semantics unchanged (docs/onnx.md, "Numerics on the
 * WASM kernels"): per element of C, the products in order of k, each a float32 multiply
 * then a float32 add (no FMA: -ffp-contract=off and separate _mm512_mul_ps/_mm512_add_ps).
 * Shape: ppocr_rec's classifier, 40x120 by 120x6625. Prints whether its bits equal the
 * scalar loop's, and the time of the AVX-512 form (6 rows x 32 columns in registers, B
 * packed in strips of 32 columns).
 *
 *   gcc -O3 -mavx512f -ffp-contract=off -o /tmp/gemm_mul_add bench/probes/gemm_mul_add.c && /tmp/gemm_mul_add
 *
 * Not part of the library: the graph runner may not call native code (architecture.json,
 * "never Onnx -> Ffi"); this measures what that rule costs on one product.
 */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { M = 40, K = 120, N = 6625 };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* The runner's semantics, one element at a time. */
static void reference(const float *a, const float *b, float *c) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      float s = 0;
      for (int p = 0; p < K; p++) {
        float t = a[i * K + p] * b[p * N + j];
        s = s + t;
      }
      c[i * N + j] = s;
    }
}

/* B's columns in strips of 32, each K x 32 row-major. */
static void pack(const float *b, float *bp) {
  for (int j = 0; j + 32 <= N; j += 32)
    for (int p = 0; p < K; p++) memcpy(bp + (size_t)j * K + p * 32, b + p * N + j, 32 * sizeof(float));
}

static void gemm_avx512(const float *a, const float *bp, const float *b, float *c) {
  int n32 = N & ~31;
  for (int j = 0; j < n32; j += 32) {
    const float *s = bp + (size_t)j * K;
    int i = 0;
    for (; i + 6 <= M; i += 6) {
      __m512 acc[6][2];
      for (int r = 0; r < 6; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
      for (int p = 0; p < K; p++) {
        __m512 b0 = _mm512_load_ps(s + p * 32), b1 = _mm512_load_ps(s + p * 32 + 16);
        for (int r = 0; r < 6; r++) {
          __m512 av = _mm512_set1_ps(a[(i + r) * K + p]);
          acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_mul_ps(av, b0));
          acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_mul_ps(av, b1));
        }
      }
      for (int r = 0; r < 6; r++) {
        _mm512_storeu_ps(c + (i + r) * N + j, acc[r][0]);
        _mm512_storeu_ps(c + (i + r) * N + j + 16, acc[r][1]);
      }
    }
    for (; i < M; i++) {
      __m512 x0 = _mm512_setzero_ps(), x1 = _mm512_setzero_ps();
      for (int p = 0; p < K; p++) {
        __m512 av = _mm512_set1_ps(a[i * K + p]);
        x0 = _mm512_add_ps(x0, _mm512_mul_ps(av, _mm512_load_ps(s + p * 32)));
        x1 = _mm512_add_ps(x1, _mm512_mul_ps(av, _mm512_load_ps(s + p * 32 + 16)));
      }
      _mm512_storeu_ps(c + i * N + j, x0);
      _mm512_storeu_ps(c + i * N + j + 16, x1);
    }
  }
  for (int i = 0; i < M; i++)
    for (int j = n32; j < N; j++) {
      float s = 0;
      for (int p = 0; p < K; p++) {
        float t = a[i * K + p] * b[p * N + j];
        s = s + t;
      }
      c[i * N + j] = s;
    }
}

int main(void) {
  float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N);
  float *c = malloc(sizeof(float) * M * N), *want = malloc(sizeof(float) * M * N);
  float *bp = aligned_alloc(64, sizeof(float) * (size_t)K * N + 64);
  srand(1);
  for (int i = 0; i < M * K; i++) a[i] = (rand() / (float)RAND_MAX - 0.5f) * 3;
  for (int i = 0; i < K * N; i++) b[i] = (rand() / (float)RAND_MAX - 0.5f) * 0.3f;
  pack(b, bp);
  reference(a, b, want);
  gemm_avx512(a, bp, b, c);
  printf("bits equal to the scalar loop: %s\n", memcmp(c, want, sizeof(float) * M * N) == 0 ? "yes" : "NO");
  double best = 1e9;
  for (int it = 0; it < 200; it++) {
    double t = now();
    gemm_avx512(a, bp, b, c);
    t = now() - t;
    if (t < best) best = t;
  }
  printf("AVX-512 multiply then add, %dx%d by %dx%d: %.3f ms (fastest of 200), %.1f GMAC/s\n", M, K, K, N, best * 1e3,
         (double)M * N * K / best / 1e9);
  return 0;
}
