using TiledEnsemble.Models.Backbones;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace TiledEnsemble.Models.Stfpm;

/// <summary>The trainable part of STFPM: the student, saved as <c>student_model.*</c> with torchvision's
/// names.</summary>
internal sealed class StfpmNetwork : Module
{
    private readonly ResNet student_model;

    public StfpmNetwork(ResNet student)
        : base(nameof(StfpmNetwork))
    {
        student_model = student;
        RegisterComponents();
    }

    public ResNet Student => student_model;
}
