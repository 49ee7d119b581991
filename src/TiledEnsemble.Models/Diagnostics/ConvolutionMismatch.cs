using System.Globalization;

namespace TiledEnsemble.Models.Diagnostics;

/// <summary>A convolution whose values on this CPU or device differ from the float64 reference beyond
/// rounding.</summary>
/// <param name="Shape">The convolution.</param>
/// <param name="Batch">Batch size of the run.</param>
/// <param name="ChannelsLast">Whether the input had channels-last strides.</param>
/// <param name="LargestError">Largest absolute difference from the reference.</param>
/// <param name="Tolerance">The rounding bound at that element.</param>
/// <param name="FirstChannel">First output channel with a difference beyond its bound.</param>
/// <param name="LastChannel">Last such output channel.</param>
/// <param name="WrongValues">How many compared values were beyond their bound.</param>
/// <param name="ComparedValues">How many values were compared.</param>
public sealed record ConvolutionMismatch(
    ConvolutionShape Shape,
    int Batch,
    bool ChannelsLast,
    double LargestError,
    double Tolerance,
    long FirstChannel,
    long LastChannel,
    long WrongValues,
    long ComparedValues
)
{
    /// <summary>One line for a report or an exception message.</summary>
    public override string ToString() =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{Shape}, batch {Batch}, {(ChannelsLast ? "channels-last" : "channels-first")}: {WrongValues} of "
                + $"{ComparedValues} values wrong in output channels {FirstChannel}–{LastChannel}, largest error "
                + $"{LargestError:G3} (bound {Tolerance:G3})"
        );
}
