namespace TiledEnsemble.Deployment;

/// <summary>A connected region of the predicted mask: its bounding box in pixels (x2, y2 exclusive) and its highest map
/// value.</summary>
/// <param name="X1">Left column.</param>
/// <param name="Y1">Top row.</param>
/// <param name="X2">Right column, exclusive.</param>
/// <param name="Y2">Bottom row, exclusive.</param>
/// <param name="Score">Highest anomaly-map value inside the region.</param>
public sealed record DeployedBox(int X1, int Y1, int X2, int Y2, double Score);
