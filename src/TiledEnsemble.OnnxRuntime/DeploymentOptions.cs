namespace TiledEnsemble.Deployment;

/// <summary>Where an exported ensemble runs: the CPU or a CUDA GPU.</summary>
public enum DeploymentDevice
{
    /// <summary>ONNX Runtime's CPU execution provider (in <c>Microsoft.ML.OnnxRuntime</c>).</summary>
    Cpu,

    /// <summary>
    /// ONNX Runtime's CUDA execution provider: needs <c>Microsoft.ML.OnnxRuntime.Gpu.Linux</c> or
    /// <c>Microsoft.ML.OnnxRuntime.Gpu.Windows</c> instead of the CPU package, and CUDA and cuDNN on the machine.
    /// </summary>
    Cuda,
}

/// <summary>How <see cref="DeployedEnsemble.Load"/> sets up ONNX Runtime.</summary>
public sealed record DeploymentOptions
{
    /// <summary>Threads of one operator (null: ONNX Runtime's default, one per physical core).</summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>Threads across operators (null: ONNX Runtime's default).</summary>
    public int? InterOpThreads { get; init; }

    /// <summary>
    /// Whether ONNX Runtime's threads spin while they wait for work instead of sleeping (its
    /// <c>session.intra_op.allow_spinning</c>; on by default, as in ONNX Runtime). Spinning is faster on a machine that
    /// does nothing else; turn it off where the application runs other work on the same cores (docs/deploy.md gives
    /// the measured cost and gain).
    /// </summary>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>The device.</summary>
    public DeploymentDevice Device { get; init; } = DeploymentDevice.Cpu;

    /// <summary>The CUDA device's number, with <see cref="DeploymentDevice.Cuda"/>.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>The largest image side accepted (null: the export's, which the run recorded).</summary>
    public int? MaxInputSide { get; init; }

    /// <summary>The most pixels (width × height) an image file may have, checked from its header before decoding
    /// (default 8192²: decoding and predicting cost tens of bytes a pixel).</summary>
    public long MaxInputPixels { get; init; } = DeployedImage.DefaultMaxPixels;
}
