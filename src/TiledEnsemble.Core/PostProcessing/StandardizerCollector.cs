using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace TiledEnsemble.PostProcessing;

/// <summary>
/// Collects one position's good validation tiles into the sums a <see cref="PositionStandardizer"/> needs, batch by
/// batch, in memory of one tile map (float64 sums of values and squares, shifted by the first batch's mean so that the
/// variance does not cancel).
/// </summary>
internal sealed class StandardizerCollector
{
    /// <summary>
    /// How many tiles' worth of weight the position's variance has in a pixel's: with <c>n</c> good tiles a pixel's
    /// variance is <c>(n · pixel + 4 · position) / (n + 4)</c>, so a handful of held-out images does not make a
    /// pixel whose few values happened to agree look infinitely certain.
    /// </summary>
    public const int ShrinkageTiles = 4;

    private readonly PositionCalibration _calibration;
    private double[]? _sums;
    private double[]? _squares;
    private double _shift;
    private long _tiles;
    private int _height;
    private int _width;

    public StandardizerCollector(PositionCalibration calibration)
    {
        if (calibration is not (PositionCalibration.PerPosition or PositionCalibration.PerPixel))
        {
            throw new ArgumentException($"No standardizer for calibration {calibration}.", nameof(calibration));
        }

        _calibration = calibration;
    }

    /// <summary>Adds the good tiles of a batch.</summary>
    /// <param name="maps">[B, 1, H, W] raw tile maps.</param>
    /// <param name="labels">[B] labels; tiles labelled anomalous are left out.</param>
    public void Update(Tensor maps, Tensor labels)
    {
        TensorGuard.Rank(maps, 4, nameof(maps), "[B, 1, H, W]");
        TensorGuard.Rank(labels, 1, nameof(labels), "[B]");
        using var scope = NewDisposeScope();
        int height = (int)maps.shape[2],
            width = (int)maps.shape[3];
        if (_sums is not null && (height != _height || width != _width))
        {
            throw new ArgumentException(
                $"maps are {TensorGuard.Describe(maps)}; earlier batches were {_height}x{_width}.",
                nameof(maps)
            );
        }

        var good = maps[labels.ne(Scalars.Zero).logical_not().to(maps.device)].to_type(ScalarType.Float64).cpu();
        long count = good.shape[0];
        if (count == 0)
        {
            return;
        }

        var values = good.reshape(count, (long)height * width);
        if (!values.isfinite().all().item<bool>())
        {
            throw new ArgumentException(
                "Validation maps hold NaN or infinite values; the model diverged.",
                nameof(maps)
            );
        }

        if (_sums is null)
        {
            _height = height;
            _width = width;
            _shift = values.mean().item<double>();
            _sums = new double[height * width];
            _squares = new double[height * width];
        }

        using var shift = _shift.ToScalar();
        var centred = values.sub(shift);
        var sums = centred.sum(0L).data<double>().ToArray();
        var squares = centred.mul(centred).sum(0L).data<double>().ToArray();
        for (int i = 0; i < sums.Length; i++)
        {
            _sums[i] += sums[i];
            _squares![i] += squares[i];
        }

        _tiles += count;
    }

    /// <summary>The standardizer of what was added.</summary>
    /// <exception cref="InvalidOperationException">No good tile was added.</exception>
    public PositionStandardizer Build()
    {
        if (_sums is null || _tiles == 0)
        {
            throw new InvalidOperationException(
                "Position calibration needs good validation tiles, and this position had none (every validation tile "
                    + "overlapped a defect, or the validation set is empty): hold out good training images with "
                    + "val_split_mode from_train."
            );
        }

        double pixels = (double)_tiles * _sums.Length;
        double meanOffset = _sums.Sum() / pixels;
        var squareSums = _squares!;
        double positionVariance = Math.Max(0, (squareSums.Sum() / pixels) - (meanOffset * meanOffset));
        double mean = _shift + meanOffset;
        double deviation = Floor(Math.Sqrt(positionVariance), mean);
        float[]? means = null,
            deviations = null;
        if (_calibration == PositionCalibration.PerPixel)
        {
            means = new float[_sums.Length];
            deviations = new float[_sums.Length];
            for (int i = 0; i < _sums.Length; i++)
            {
                double offset = _sums[i] / _tiles;
                double variance = Math.Max(0, (squareSums[i] / _tiles) - (offset * offset));
                double shrunk = ((_tiles * variance) + (ShrinkageTiles * positionVariance)) / (_tiles + ShrinkageTiles);
                means[i] = (float)(_shift + offset);
                deviations[i] = (float)Floor(Math.Sqrt(shrunk), _shift + offset);
            }
        }

        return new PositionStandardizer(_calibration, mean, deviation, _tiles, _height, _width, means, deviations);
    }

    /// <summary>A deviation kept above zero: maps that are constant on good tiles still divide without
    /// overflow.</summary>
    private static double Floor(double deviation, double mean) =>
        Math.Max(deviation, Math.Max(1e-12, 1e-6 * Math.Abs(mean)));
}
