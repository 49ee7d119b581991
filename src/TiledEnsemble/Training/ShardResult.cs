using System;

namespace TiledEnsemble;

/// <summary>What one shard worker did.</summary>
/// <param name="RunDirectory">The shared run folder.</param>
/// <param name="Index">Shard index K.</param>
/// <param name="Count">Shard count N.</param>
/// <param name="Positions">Positions in the shard.</param>
/// <param name="PositionsTrained">Positions trained now.</param>
/// <param name="PositionsResumed">Positions found finished.</param>
/// <param name="Duration">Wall time.</param>
public sealed record ShardResult(
    string RunDirectory,
    int Index,
    int Count,
    int Positions,
    int PositionsTrained,
    int PositionsResumed,
    TimeSpan Duration
);
