namespace TiledEnsemble.Testing;

/// <summary>PNG's CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), bit by bit: a reference independent of the
/// decoders under test, for crafting and resealing chunks.</summary>
internal static class PngCrc
{
    /// <summary>The CRC of <paramref name="data"/> (a chunk's type and data).</summary>
    public static uint Compute(System.ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }
}
