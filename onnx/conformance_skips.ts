/**
 * Backend node tests skipped on purpose: each uses an attribute value (or optional
 * output) of a supported op that the runner documents as unsupported (docs/onnx.md).
 * The conformance runner fails any other case that hits an unsupported attribute.
 *
 * @example
 * ```ts
 * import { SKIPS } from "./conformance_skips.ts";
 * console.log(SKIPS.test_resize_upsample_scales_cubic);
 * ```
 * @module
 */
/** Case name -> reason. @example `SKIPS["test_resize_tf_crop_and_resize"]` */
export const SKIPS: Record<string, string> = {
  test_batchnorm_epsilon_training_mode: "BatchNormalization training_mode is not supported",
  test_batchnorm_example_training_mode: "BatchNormalization training_mode is not supported",
  test_dequantizelinear_blocked: "DequantizeLinear attribute block_size is not supported",
  test_maxpool_with_argmax_2d_precomputed_pads: "MaxPool the Indices output is not supported",
  test_maxpool_with_argmax_2d_precomputed_strides: "MaxPool the Indices output is not supported",
  test_quantizelinear_blocked_asymmetric: "QuantizeLinear attribute block_size is not supported",
  test_quantizelinear_blocked_symmetric: "QuantizeLinear attribute block_size is not supported",
  test_resize_downsample_scales_cubic: "Resize mode 'cubic' is not supported",
  test_resize_downsample_scales_cubic_A_n0p5_exclude_outside: "Resize mode 'cubic' is not supported",
  test_resize_downsample_scales_cubic_align_corners: "Resize mode 'cubic' is not supported",
  test_resize_downsample_scales_cubic_antialias: "Resize mode 'cubic' is not supported",
  test_resize_downsample_scales_linear_antialias: "Resize antialias is not supported",
  test_resize_downsample_scales_linear_half_pixel_symmetric:
    "Resize coordinate_transformation_mode 'half_pixel_symmetric' is not supported",
  test_resize_downsample_sizes_cubic: "Resize mode 'cubic' is not supported",
  test_resize_downsample_sizes_cubic_antialias: "Resize mode 'cubic' is not supported",
  test_resize_downsample_sizes_linear_antialias: "Resize antialias is not supported",
  test_resize_downsample_sizes_nearest_not_larger: "Resize keep_aspect_ratio_policy is not supported",
  test_resize_downsample_sizes_nearest_not_smaller: "Resize keep_aspect_ratio_policy is not supported",
  test_resize_tf_crop_and_resize: "Resize coordinate_transformation_mode 'tf_crop_and_resize' is not supported",
  test_resize_tf_crop_and_resize_axes_2_3:
    "Resize coordinate_transformation_mode 'tf_crop_and_resize' is not supported",
  test_resize_tf_crop_and_resize_axes_3_2:
    "Resize coordinate_transformation_mode 'tf_crop_and_resize' is not supported",
  test_resize_tf_crop_and_resize_extrapolation_value:
    "Resize coordinate_transformation_mode 'tf_crop_and_resize' is not supported",
  test_resize_upsample_scales_cubic: "Resize mode 'cubic' is not supported",
  test_resize_upsample_scales_cubic_A_n0p5_exclude_outside: "Resize mode 'cubic' is not supported",
  test_resize_upsample_scales_cubic_align_corners: "Resize mode 'cubic' is not supported",
  test_resize_upsample_scales_cubic_asymmetric: "Resize mode 'cubic' is not supported",
  test_resize_upsample_scales_linear_half_pixel_symmetric:
    "Resize coordinate_transformation_mode 'half_pixel_symmetric' is not supported",
  test_resize_upsample_scales_nearest_axes_2_3: "Resize attribute axes is not supported",
  test_resize_upsample_scales_nearest_axes_3_2: "Resize attribute axes is not supported",
  test_resize_upsample_sizes_cubic: "Resize mode 'cubic' is not supported",
  test_resize_upsample_sizes_nearest_axes_2_3: "Resize attribute axes is not supported",
  test_resize_upsample_sizes_nearest_axes_3_2: "Resize attribute axes is not supported",
  test_resize_upsample_sizes_nearest_not_larger: "Resize keep_aspect_ratio_policy is not supported",
  test_resize_upsample_sizes_nearest_not_smaller: "Resize keep_aspect_ratio_policy is not supported",
  test_convtranspose_autopad_same: "ConvTranspose auto_pad 'SAME_UPPER' is not supported",
  test_convtranspose_kernel_shape: "ConvTranspose attribute output_shape is not supported",
  test_convtranspose_output_shape: "ConvTranspose attribute output_shape is not supported",
  test_training_dropout: "Dropout the training_mode input is not supported (inference only)",
  test_training_dropout_default: "Dropout the training_mode input is not supported (inference only)",
  test_training_dropout_default_mask: "Dropout the training_mode input is not supported (inference only)",
  test_training_dropout_mask: "Dropout the training_mode input is not supported (inference only)",
  test_training_dropout_zero_ratio: "Dropout the training_mode input is not supported (inference only)",
  test_training_dropout_zero_ratio_mask: "Dropout the training_mode input is not supported (inference only)",
};
