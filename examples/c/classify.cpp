/*
 * classify.cpp: image classification with libaxruntime in C++17, the way an
 * application written for a Metis card does it (and unchanged on the emulator).
 *
 *   zig build examples
 *   zig-out/bin/axr-classify-cpp tests/fixtures/tiny/model.json [image.f32 [output.bin]]
 *   c++ -std=c++17 examples/c/classify.cpp $(pkg-config --cflags --libs axruntime)
 *
 * Same arguments and output as classify.c. Handles are held in axr::ptr (the
 * context; destroying it destroys the model, connection and instance it owns).
 * AXR_DEVICE=<name> picks a device by name (a zeroed axrDeviceInfo with the name
 * filled in); without it the first device.
 */
#include <axruntime/axruntime.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Layout {
  std::vector<size_t> dims, inner, lo;
};

Layout layout_of(const axrTensorInfo& info) {
  Layout l;
  for (size_t d = 0; d < info.ndims; ++d) {
    const auto [before, after] = info.padding[d];
    l.dims.push_back(info.dims[d]);
    l.inner.push_back(info.dims[d] - before - after);
    l.lo.push_back(before);
  }
  return l;
}

size_t count(const std::vector<size_t>& dims) {
  size_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

/// Calls fn(padded_index, unpadded_index) for every element inside the padding.
template <typename F>
void for_each_inner(const Layout& l, F fn) {
  std::vector<size_t> idx(l.dims.size(), 0);
  const size_t total = count(l.inner);
  for (size_t k = 0; k < total; ++k) {
    size_t padded = 0;
    for (size_t d = 0; d < l.dims.size(); ++d) padded = padded * l.dims[d] + idx[d] + l.lo[d];
    fn(padded, k);
    for (size_t d = l.dims.size(); d-- > 0;) {
      if (++idx[d] < l.inner[d]) break;
      idx[d] = 0;
    }
  }
}

std::vector<uint8_t> quantize_pad(const axrTensorInfo& info, const std::vector<float>& image) {
  const auto scale = static_cast<float>(info.scale);
  const int zp = info.zero_point;
  const int lo = info.type == AXR_TENSOR_UNSIGNED ? 0 : -128;
  const int hi = info.type == AXR_TENSOR_UNSIGNED ? 255 : 127;
  std::vector<uint8_t> out(axr_tensor_size(&info), static_cast<uint8_t>(zp));
  for_each_inner(layout_of(info), [&](size_t padded, size_t i) {
    float v = image[i] / scale;
    int q = zp;
    if (!std::isnan(v)) {
      v = std::clamp(v, static_cast<float>(lo - zp), static_cast<float>(hi - zp));
      q = static_cast<int>(std::nearbyint(v)) + zp;
    }
    out[padded] = static_cast<uint8_t>(q);
  });
  return out;
}

std::vector<float> depad_dequantize(const axrTensorInfo& info, const std::vector<uint8_t>& buf) {
  const auto l = layout_of(info);
  std::vector<float> out(count(l.inner));
  const auto scale = static_cast<float>(info.scale);
  for_each_inner(l, [&](size_t padded, size_t i) {
    const int q = info.type == AXR_TENSOR_SIGNED ? static_cast<int8_t>(buf[padded]) : buf[padded];
    out[i] = static_cast<float>(q - info.zero_point) * scale;
  });
  return out;
}

[[noreturn]] void fail(const std::string& what, axrContext* ctx) {
  throw std::runtime_error(what + ": " + axr_last_error_string(AXR_OBJECT(ctx)));
}

int run(int argc, char** argv) {
  auto ctx = axr::to_ptr(axr_create_context());

  axrDeviceInfo* devices = nullptr;
  const size_t n_devices = axr_list_devices(ctx.get(), &devices);
  for (size_t i = 0; i < n_devices; ++i)
    std::cout << "device " << i << ": " << devices[i].name << " board_type=" << axr_board_type_string(devices[i].board_type)
              << " fwver=" << devices[i].firmware_version << "\n";
  axrDeviceInfo wanted{};
  axrDeviceInfo* device = nullptr;  // nullptr: the first device
  if (const char* name = std::getenv("AXR_DEVICE")) {
    std::strncpy(wanted.name, name, sizeof wanted.name - 1);
    device = &wanted;
  }

  auto* model = axr_load_model(ctx.get(), argv[1]);
  if (!model) fail("axr_load_model", ctx.get());
  if (axr_num_model_inputs(model) != 1) throw std::runtime_error("expected a model with one input");
  const axrTensorInfo in = axr_get_model_input(model, 0);
  std::vector<axrTensorInfo> outs;
  for (size_t i = 0; i < axr_num_model_outputs(model); ++i) outs.push_back(axr_get_model_output(model, i));

  std::vector<float> image(count(layout_of(in).inner));
  if (argc >= 3) {
    std::ifstream f(argv[2], std::ios::binary);
    if (!f.read(reinterpret_cast<char*>(image.data()), static_cast<std::streamsize>(image.size() * sizeof(float))))
      throw std::runtime_error(std::string(argv[2]) + ": cannot read the image (float32, NHWC, unpadded)");
  } else {
    for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<float>(std::sin(static_cast<double>(i) * 0.37) * 0.8);
  }
  auto input = quantize_pad(in, image);

  auto* conn = axr_device_connect(ctx.get(), device, 1, nullptr);
  if (!conn) fail("axr_device_connect", ctx.get());
  auto props = axr::to_ptr(
      axr_create_properties(ctx.get(), "input_dmabuf=0\nnum_sub_devices=1\naipu_cores=1\ndouble_buffer=0\n"));
  if (!props) fail("axr_create_properties", ctx.get());
  auto* inst = axr_load_model_instance(conn, model, props.get());
  if (!inst) fail("axr_load_model_instance", ctx.get());

  std::vector<std::vector<uint8_t>> out_bufs;
  std::vector<axrArgument> out_args;
  for (const auto& t : outs) out_bufs.emplace_back(axr_tensor_size(&t));
  for (auto& b : out_bufs) out_args.push_back(axrArgument{b.data(), 0, 0, 0});
  axrArgument in_arg{input.data(), 0, 0, input.size()};
  const axrResult r = axr_run_model_instance(inst, &in_arg, 1, out_args.data(), out_args.size());
  if (r != AXR_SUCCESS)
    throw std::runtime_error(std::string("axr_run_model_instance: ") + axr_error_string(r) + ": " +
                             axr_last_error_string(AXR_OBJECT(inst)));

  const auto scores = depad_dequantize(outs[0], out_bufs[0]);
  size_t best = 0;
  std::printf("scores:");
  for (size_t i = 0; i < scores.size(); ++i) {
    std::printf(" %.3f", scores[i]);
    if (scores[i] > scores[best]) best = i;
  }
  std::printf("\nbest class: %zu\n", best);
  if (argc == 4) {
    std::ofstream f(argv[3], std::ios::binary);
    for (const auto& b : out_bufs) f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!f.flush()) throw std::runtime_error(std::string("cannot write ") + argv[3]);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::cerr << "usage: " << argv[0] << " model.json [image.f32 [output.bin]]\n";
    return 2;
  }
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
