/*
 * classify.c: image classification with libaxruntime, in C99, the way an
 * application written for a Metis card does it (and unchanged on the emulator).
 *
 *   zig build examples
 *   zig-out/bin/axr-classify-c tests/fixtures/tiny/model.json [image.f32 [output.bin]]
 *
 * or, by hand, with the installed pkg-config file (docs/c.md):
 *
 *   cc -std=c99 examples/c/classify.c $(pkg-config --cflags --libs axruntime) -lm
 *
 * image.f32: the model's input, float32, NHWC, unpadded (without it, a fixed test
 * pattern). Steps: load the model, read the tensor infos, quantize and pad the
 * image by hand (the padding holds the zero point), run, then depad and dequantize
 * the output and print the best class. output.bin receives the raw bytes of every
 * output buffer, in order, as the device wrote them.
 */
#include <axruntime/axruntime.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Number of elements of the tensor without its padding. */
static size_t unpadded_count(const axrTensorInfo* t) {
  size_t n = 1;
  for (size_t d = 0; d < t->ndims; d++) n *= t->dims[d] - t->padding[d][0] - t->padding[d][1];
  return n;
}

/* Calls fn(padded_index, unpadded_index) for every element inside the padding. */
typedef void (*visit_fn)(void* arg, size_t padded, size_t unpadded);
static void for_each_inner(const axrTensorInfo* t, visit_fn fn, void* arg) {
  size_t idx[AXR_MAX_DIMS] = {0}, inner[AXR_MAX_DIMS];
  for (size_t d = 0; d < t->ndims; d++) inner[d] = t->dims[d] - t->padding[d][0] - t->padding[d][1];
  size_t total = unpadded_count(t);
  for (size_t k = 0; k < total; k++) {
    size_t padded = 0;
    for (size_t d = 0; d < t->ndims; d++) padded = padded * t->dims[d] + idx[d] + t->padding[d][0];
    fn(arg, padded, k);
    for (size_t d = t->ndims; d-- > 0;) { /* next index, last dimension fastest */
      if (++idx[d] < inner[d]) break;
      idx[d] = 0;
    }
  }
}

struct quant {
  const float* src;
  uint8_t* dst;
  float scale;
  int zero_point, lo, hi;
};

/* q = clamp(round_half_even(x / scale) + zero_point), NaN -> zero_point. */
static void quantize_one(void* arg, size_t padded, size_t unpadded) {
  struct quant* q = (struct quant*)arg;
  float v = q->src[unpadded] / q->scale;
  int r = q->zero_point;
  if (!isnan(v)) {
    float lo = (float)(q->lo - q->zero_point), hi = (float)(q->hi - q->zero_point);
    v = v < lo ? lo : v > hi ? hi : v;
    r = (int)nearbyintf(v) + q->zero_point;
  }
  q->dst[padded] = (uint8_t)r; /* the byte of an int8 or uint8 value */
}

struct dequant {
  const uint8_t* src;
  float* dst;
  float scale;
  int zero_point, is_signed;
};

/* x = float(q - zero_point) * scale */
static void dequantize_one(void* arg, size_t padded, size_t unpadded) {
  struct dequant* d = (struct dequant*)arg;
  int q = d->is_signed ? (int)(int8_t)d->src[padded] : (int)d->src[padded];
  d->dst[unpadded] = (float)(q - d->zero_point) * d->scale;
}

static int fail(const char* what, axrContext* ctx, const char* detail) {
  fprintf(stderr, "%s: %s\n", what, detail ? detail : axr_last_error_string(AXR_OBJECT(ctx)));
  axr_destroy(AXR_OBJECT(ctx));
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: %s model.json [image.f32 [output.bin]]\n", argv[0]);
    return 2;
  }
  axrContext* ctx = axr_create_context();
  axrModel* model = axr_load_model(ctx, argv[1]);
  if (!model) return fail("axr_load_model", ctx, NULL);
  if (axr_num_model_inputs(model) != 1) return fail("model", ctx, "expected a model with one input");

  axrTensorInfo in = axr_get_model_input(model, 0);
  size_t n_out = axr_num_model_outputs(model);
  size_t n_image = unpadded_count(&in);
  printf("input %s: %zu dims, %zu bytes padded, scale %g, zero point %d\n", in.name, in.ndims,
         axr_tensor_size(&in), in.scale, in.zero_point);

  float* image = (float*)malloc(n_image * sizeof(float));
  if (argc >= 3) {
    FILE* f = fopen(argv[2], "rb");
    size_t got = f ? fread(image, sizeof(float), n_image, f) : 0;
    if (f) fclose(f);
    if (got != n_image) {
      free(image);
      return fail(argv[2], ctx, "cannot read the image (float32, NHWC, unpadded)");
    }
  } else {
    for (size_t i = 0; i < n_image; i++) image[i] = (float)(sin((double)i * 0.37) * 0.8);
  }

  /* quantize and pad: the padding holds the zero point */
  uint8_t* input = (uint8_t*)malloc(axr_tensor_size(&in));
  memset(input, (uint8_t)in.zero_point, axr_tensor_size(&in));
  struct quant q = {image, input, (float)in.scale, in.zero_point, 0, 0};
  q.lo = in.type == AXR_TENSOR_UNSIGNED ? 0 : -128;
  q.hi = in.type == AXR_TENSOR_UNSIGNED ? 255 : 127;
  for_each_inner(&in, quantize_one, &q);
  free(image);

  axrConnection* conn = axr_device_connect(ctx, NULL, 1, NULL);
  if (!conn) {
    free(input);
    return fail("axr_device_connect", ctx, NULL);
  }
  axrProperties* props = axr_create_properties(ctx, "input_dmabuf=0;num_sub_devices=1;aipu_cores=1");
  axrModelInstance* inst = axr_load_model_instance(conn, model, props);
  axr_destroy(AXR_OBJECT(props));
  if (!inst) {
    free(input);
    return fail("axr_load_model_instance", ctx, NULL);
  }

  axrArgument in_arg;
  in_arg.ptr = input;
  in_arg.fd = 0;
  in_arg.offset = 0;
  in_arg.size = axr_tensor_size(&in);
  axrArgument* out_args = (axrArgument*)calloc(n_out, sizeof(axrArgument));
  for (size_t i = 0; i < n_out; i++) {
    axrTensorInfo t = axr_get_model_output(model, i);
    out_args[i].ptr = malloc(axr_tensor_size(&t));
  }
  axrResult r = axr_run_model_instance(inst, &in_arg, 1, out_args, n_out);
  int status = 0;
  if (r != AXR_SUCCESS) {
    fprintf(stderr, "axr_run_model_instance: %s: %s\n", axr_error_string(r), axr_last_error_string(AXR_OBJECT(inst)));
    status = 1;
  } else {
    /* depad and dequantize the first output, then argmax */
    axrTensorInfo out = axr_get_model_output(model, 0);
    size_t n_scores = unpadded_count(&out);
    float* scores = (float*)malloc(n_scores * sizeof(float));
    struct dequant d = {(const uint8_t*)out_args[0].ptr, scores, (float)out.scale, out.zero_point,
                        out.type == AXR_TENSOR_SIGNED};
    for_each_inner(&out, dequantize_one, &d);
    size_t best = 0;
    printf("scores:");
    for (size_t i = 0; i < n_scores; i++) {
      printf(" %.3f", scores[i]);
      if (scores[i] > scores[best]) best = i;
    }
    printf("\nbest class: %zu\n", best);
    free(scores);
    if (argc == 4) {
      FILE* f = fopen(argv[3], "wb");
      for (size_t i = 0; f && i < n_out; i++) {
        axrTensorInfo t = axr_get_model_output(model, i);
        if (fwrite(out_args[i].ptr, 1, axr_tensor_size(&t), f) != axr_tensor_size(&t)) status = 1;
      }
      if (!f || fclose(f) != 0) status = 1;
      if (status) fprintf(stderr, "cannot write %s\n", argv[3]);
    }
  }
  for (size_t i = 0; i < n_out; i++) free(out_args[i].ptr);
  free(out_args);
  free(input);
  axr_destroy(AXR_OBJECT(ctx)); /* and with it the model, connection and instance */
  return status;
}
