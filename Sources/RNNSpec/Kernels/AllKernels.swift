/// The one list of kernels. Adding a kernel: write its adapter in this folder, add it here,
/// and add at least one case under `cases/` (a test fails until you do).
let allKernels: [any Kernel] = [
    RNNStepKernel(),
    ClipNormKernel(),
    MaskedMeanKernel(),
    LSTMStepKernel(),
    LSTMCellUpdateKernel(),
    GRUStepKernel(),
    GRUBlendKernel(),
    TorchRecurrentKernel(kind: .rnn),
    TorchRecurrentKernel(kind: .lstm),
    TorchRecurrentKernel(kind: .gru),
    ONNXRecurrentKernel(kind: .rnn),
    ONNXRecurrentKernel(kind: .lstm),
    ONNXRecurrentKernel(kind: .gru),
]
