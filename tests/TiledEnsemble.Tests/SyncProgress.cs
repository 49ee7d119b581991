using System;

namespace TiledEnsemble.Tests;

/// <summary>Reports synchronously (Progress&lt;T&gt; posts asynchronously, which makes tests racy).</summary>
internal sealed class SyncProgress<T> : IProgress<T>
{
    private readonly Action<T> _action;

    public SyncProgress(Action<T> action) => _action = action;

    public void Report(T value) => _action(value);
}
