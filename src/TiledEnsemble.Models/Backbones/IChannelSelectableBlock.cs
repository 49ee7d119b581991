using static TorchSharp.torch;

namespace TiledEnsemble.Models.Backbones;

/// <summary>A residual block that can compute some of its output channels only (eval mode).</summary>
internal interface IChannelSelectableBlock
{
    /// <summary>The block's output restricted to <paramref name="channels"/>; equal to the forward pass followed by
    /// selecting them.</summary>
    Tensor ForwardSelected(Tensor input, Tensor channels);
}
