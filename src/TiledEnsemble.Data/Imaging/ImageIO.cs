using System;
using System.Buffers.Binary;
using System.IO;
using System.Runtime.InteropServices;
using SkiaSharp;
using TiledEnsemble.Tiling;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TiledEnsemble.Data.Imaging;

/// <summary>
/// Reads and writes images as TorchSharp tensors: PNG (8 and 16 bit), JPEG and BMP, and reads TIFF (8 and 16 bit);
/// gray, RGB and RGBA. Decoding uses SkiaSharp (ImageSharp is not available from our package source) and LibTiff.NET
/// for TIFF; PNG and BMP are encoded by our own writers because SkiaSharp encodes neither 16-bit PNG nor BMP.
/// </summary>
public static class ImageIO
{
    /// <summary>The largest side read by default (16384): checked from the header before decoding.</summary>
    public const int DefaultMaxSide = 16384;

    /// <summary>
    /// The most pixels read by default (8192², 67 million): checked from the header before decoding. Decoding and
    /// predicting cost about 40 bytes a pixel (predicting an 8192² image peaks at 2.6 GB), so the default keeps a
    /// 16384² file (10 GB) from being read unless the budget is raised.
    /// </summary>
    public const long DefaultMaxPixels = 1L << 26;

    /// <summary>Reads an image as a float32 tensor [C, H, W] with values in [0, 1].</summary>
    /// <param name="path">The file.</param>
    /// <param name="mode">Channels wanted.</param>
    /// <param name="maxSide">Largest width or height accepted, checked from the header before anything is
    /// decoded.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageTooLargeException">The header declares a side beyond
    /// <paramref name="maxSide"/>.</exception>
    /// <exception cref="ImageDecodeException">The file is corrupt, truncated, empty or not
    /// PNG/JPEG/BMP/TIFF.</exception>
    /// <param name="maxPixels">Most pixels accepted (width × height), checked from the header before anything is
    /// decoded.</param>
    public static Tensor ReadImage(
        string path,
        ColorMode mode = ColorMode.Rgb,
        int maxSide = DefaultMaxSide,
        long maxPixels = DefaultMaxPixels
    )
    {
        using var scope = NewDisposeScope();
        var (rgba, channels) = Decode(path, maxSide, maxPixels);
        var image = rgba.permute(2, 0, 1);
        Tensor result = mode switch
        {
            ColorMode.Rgb => UnitFloats(image[..3]),
            ColorMode.Gray => channels == 1 ? UnitFloats(image[..1]) : Luma(UnitFloats(image[..3])),
            _ => UnitFloats(image[..channels]),
        };

        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Reads a ground-truth mask as a float32 tensor [1, H, W] of 0 and 1 (any non-zero pixel is 1).</summary>
    /// <param name="path">The file.</param>
    /// <param name="maxSide">Largest width or height accepted, checked from the header before anything is
    /// decoded.</param>
    /// <param name="maxPixels">Most pixels accepted, checked from the header.</param>
    public static Tensor ReadMask(string path, int maxSide = DefaultMaxSide, long maxPixels = DefaultMaxPixels)
    {
        using var scope = NewDisposeScope();
        var (rgba, channels) = Decode(path, maxSide, maxPixels);
        var image = rgba.permute(2, 0, 1);
        var colour = channels == 1 ? image[..1] : image[..3].amax(new long[] { 0 }, keepdim: true);
        return colour.gt(Scalars.Zero).to_type(ScalarType.Float32).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The size of an image, read from its header only.</summary>
    /// <exception cref="ImageDecodeException">The file is not a readable PNG, JPEG, BMP or TIFF.</exception>
    public static Size2D ReadSize(string path)
    {
        ImageFiles.CheckFile(path, Errors);
        int width,
            height,
            origin;
        if (TiffReader.IsTiff(path))
        {
            (width, height, origin) = TiffReader.ReadSize(path, Errors);
        }
        else
        {
            using var codec = OpenCodec(path, out _);
            (width, height, origin) = (codec.Info.Width, codec.Info.Height, (int)codec.EncodedOrigin);
        }

        // The size as displayed: orientations that turn the image by 90° swap the sides.
        return ImageOrientation.SwapsSides(origin) ? new Size2D(width, height) : new Size2D(height, width);
    }

    /// <summary>Checks an image's header (format and size) without decoding it.</summary>
    /// <exception cref="ImageTooLargeException">A side is beyond <paramref name="maxSide"/>.</exception>
    /// <exception cref="ImageDecodeException">The file is not a readable PNG, JPEG, BMP or TIFF.</exception>
    /// <param name="path">The file.</param>
    /// <param name="maxSide">Largest width or height accepted.</param>
    /// <param name="maxPixels">Most pixels accepted.</param>
    public static Size2D CheckHeader(string path, int maxSide = DefaultMaxSide, long maxPixels = DefaultMaxPixels)
    {
        var size = ReadSize(path);
        ImageFiles.EnsureWithin(path, size.Width, size.Height, maxSide, maxPixels, Errors);
        return size;
    }

    /// <summary>
    /// Writes an image [C, H, W] (C = 1, 3 or 4; values in [0, 1], clamped) to <paramref name="path"/>; the format
    /// comes from the extension (.png, .jpg/.jpeg, .bmp). PNG can be 8 or 16 bits per channel. The file is written
    /// beside its destination and renamed over it, so an existing file is never left half-written.
    /// </summary>
    public static void WriteImage(string path, Tensor image, int bitDepth = 8)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        TensorGuard.Rank(image, 3, nameof(image), "[C, H, W]");
        int channels = (int)image.shape[0],
            height = (int)image.shape[1],
            width = (int)image.shape[2];
        if (channels is not (1 or 3 or 4) || height == 0 || width == 0)
        {
            throw new ArgumentException(
                $"image must be [C, H, W] with C in 1, 3, 4 and non-empty; got {TensorGuard.Describe(image)}.",
                nameof(image)
            );
        }

        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (bitDepth != 8 && !(bitDepth == 16 && extension == ".png"))
        {
            throw new ArgumentException(
                $"bitDepth {bitDepth} is not supported for '{extension}'; use 8, or 16 with .png.",
                nameof(bitDepth)
            );
        }

        ushort[] samples;
        using (var scope = NewDisposeScope())
        {
            using var max = (bitDepth == 16 ? 65535L : 255L).ToScalar();
            var scaled = image
                .to_type(ScalarType.Float32)
                .cpu()
                .clamp(Scalars.Zero, Scalars.One)
                .mul(max)
                .round()
                .permute(1, 2, 0)
                .contiguous();
            var floats = scaled.data<float>().ToArray();
            samples = Array.ConvertAll(floats, v => (ushort)v);
        }

        AtomicFile.Write(path, stream =>
        {
            switch (extension)
            {
                case ".png":
                    PngWriter.Write(stream, samples, width, height, channels, bitDepth);
                    break;
                case ".bmp":
                    BmpWriter.Write(stream, Array.ConvertAll(samples, v => (byte)v), width, height, channels);
                    break;
                case ".jpg" or ".jpeg":
                    WriteJpeg(stream, samples, width, height, channels);
                    break;
                default:
                    throw new ArgumentException(
                        $"Cannot write '{path}': unknown image extension '{extension}' (expected .png, .jpg, .jpeg "
                            + $"or .bmp).",
                        nameof(path)
                    );
            }
        });
    }

    /// <summary>Resizes images [C, H, W] or [B, C, H, W] with antialiased bilinear interpolation.</summary>
    public static Tensor Resize(Tensor image, Size2D size) =>
        ResizeWith(image, size, InterpolationMode.Bilinear, antialias: true);

    /// <summary>Resizes masks [1, H, W] or [B, 1, H, W] with nearest-neighbour interpolation, keeping them
    /// binary.</summary>
    public static Tensor ResizeMask(Tensor mask, Size2D size) =>
        ResizeWith(mask, size, InterpolationMode.Nearest, antialias: false);

    private static Tensor ResizeWith(Tensor image, Size2D size, InterpolationMode mode, bool antialias)
    {
        TensorGuard.Positive(size, nameof(size));
        TensorGuard.NotNull(image, nameof(image));
        if (image.dim() is not (3 or 4))
        {
            throw new ArgumentException(
                $"image must be [C, H, W] or [B, C, H, W]; got {TensorGuard.Describe(image)}.",
                nameof(image)
            );
        }

        if (image.shape[^2] == size.Height && image.shape[^1] == size.Width)
        {
            return image.alias();
        }

        using var scope = NewDisposeScope();
        var batch = image.dim() == 3 ? image.unsqueeze(0) : image;
        var resized = F.interpolate(
            batch.to_type(ScalarType.Float32),
            new long[] { size.Height, size.Width },
            mode: mode,
            align_corners: mode == InterpolationMode.Nearest ? null : false,
            antialias: antialias
        );
        if (mode != InterpolationMode.Nearest)
        {
            resized = resized.clamp(Scalars.Zero, Scalars.One);
        }

        return (image.dim() == 3 ? resized.squeeze(0) : resized).MoveToOuterDisposeScope();
    }

    private static Tensor Luma(Tensor rgb)
    {
        // ITU-R BT.601 weights, as a [3, 1, 1] tensor so that no temporary Scalar is needed.
        using var scope = NewDisposeScope();
        var weights = tensor(new[] { 0.299f, 0.587f, 0.114f }, new long[] { 3, 1, 1 }, device: rgb.device);
        return (rgb * weights).sum(0L, keepdim: true).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Channels [C, H, W] of decoded pixels as contiguous float32 in [0, 1]: one allocation, converted and laid out by
    /// a single copy, then divided in place (bytes by 255; half and float samples are already in [0, 1]).
    /// </summary>
    /// <remarks>
    /// Converting, dividing and making contiguous as three operations took three full-size temporaries per image
    /// (48 MiB for 1024² RGBA); with the allocator's fixed mmap threshold each was fresh pages from the kernel.
    /// Values equal <c>byte / 255f</c> bit for bit.
    /// </remarks>
    private static Tensor UnitFloats(Tensor channels)
    {
        var result = empty(channels.shape, ScalarType.Float32, channels.device);
        result.copy_(channels);
        if (channels.dtype == ScalarType.Byte)
        {
            using var maximum = 255L.ToScalar();
            result.div_(maximum);
        }

        return result;
    }

    private static readonly ImageFileErrors Errors = new(
        (path, reason, inner) => new ImageDecodeException(path, reason, inner!),
        (path, width, height, maxSide, maxPixels) => new ImageTooLargeException(path, width, height, maxSide, maxPixels)
    );

    /// <summary>The image's pixels as [H, W, 4] (bytes, or half floats for 16-bit PNGs) and its channel
    /// count.</summary>
    private static (Tensor Rgba, int Channels) Decode(string path, int maxSide, long maxPixels)
    {
        ImageFiles.CheckFile(path, Errors);
        if (TiffReader.IsTiff(path))
        {
            var tiff = TiffReader.Read(path, maxSide, maxPixels, Errors);
            var samples = tensor(tiff.Samples, new long[] { tiff.Height, tiff.Width, 4 });
            return (Oriented(samples, tiff.Origin), tiff.Channels);
        }

        using var file = ImageFiles.Open(path, maxSide, maxPixels, Errors);
        if (file.SixteenBit && Png16Reader.TryRead(path, Errors) is { } exact)
        {
            var samples = tensor(exact.Samples, new long[] { exact.Height, exact.Width, 4 });
            return (Oriented(samples, file.Origin), exact.Channels);
        }

        // One allocation per image: SkiaSharp decodes straight into the tensor's memory.
        var raw = empty(
            new long[] { file.Height, file.Width, 4 },
            file.SixteenBit ? ScalarType.Float16 : ScalarType.Byte
        );
        if (raw.NumberOfElements * raw.ElementSize != file.Target.BytesSize)
        {
            throw new ImageDecodeException(
                path,
                $"unexpected pixel layout ({file.Target.BytesSize} bytes for {file.Width}x{file.Height})."
            );
        }

        unsafe
        {
            fixed (byte* pixels = raw.bytes)
            {
                file.ReadPixels((IntPtr)pixels);
            }
        }

        return (Oriented(raw, file.Origin), file.Channels);
    }

    /// <summary>Pixels [H, W, 4] as displayed under EXIF orientation <paramref name="origin"/> (see
    /// <see cref="ImageOrientation"/>).</summary>
    private static Tensor Oriented(Tensor pixels, int origin)
    {
        int code = ImageOrientation.Normalize(origin);
        if (code == 1)
        {
            return pixels;
        }

        using var scope = NewDisposeScope();
        var turned = code >= 5 ? pixels.transpose(0, 1) : pixels;
        var result = code switch
        {
            2 or 6 => turned.flip(1),
            3 or 7 => turned.flip(0, 1),
            4 or 8 => turned.flip(0),
            _ => turned.alias(),
        };
        return result.MoveToOuterDisposeScope();
    }

    private static SKCodec OpenCodec(string path, out bool sixteenBit) =>
        ImageFiles.OpenCodec(path, Errors, out sixteenBit);

    private static void WriteJpeg(Stream stream, ushort[] samples, int width, int height, int channels)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var pixels = new byte[width * height * 4];
        for (int i = 0; i < width * height; i++)
        {
            byte r = (byte)samples[i * channels];
            pixels[i * 4] = r;
            pixels[(i * 4) + 1] = channels == 1 ? r : (byte)samples[(i * channels) + 1];
            pixels[(i * 4) + 2] = channels == 1 ? r : (byte)samples[(i * channels) + 2];
            pixels[(i * 4) + 3] = 255;
        }

        Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95)
            ?? throw new IOException("SkiaSharp could not encode the JPEG image.");
        data.SaveTo(stream);
    }
}
