namespace TiledEnsemble.Hosting;

/// <summary>
/// The two glibc malloc parameters the library may set: blocks of <paramref name="MmapThresholdBytes"/> or more get a
/// mapping of their own, returned to the system when freed; free memory above <paramref name="TrimThresholdBytes"/> at
/// the top of a heap is returned to the system (null: left as it is).
/// </summary>
internal readonly record struct AllocatorSetting(int MmapThresholdBytes, int? TrimThresholdBytes);
