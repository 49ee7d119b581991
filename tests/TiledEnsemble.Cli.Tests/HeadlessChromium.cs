using System;
using System.Diagnostics;
using System.IO;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;

namespace TiledEnsemble.Cli.Tests;

/// <summary>
/// Debian's Chromium, headless, driven over the DevTools protocol: opens a page, waits for it to load and evaluates an
/// expression in it (what a user's browser would show, without Playwright's browser download).
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    private readonly Process _process;
    private readonly ClientWebSocket _socket = new();
    private readonly string _profile;
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    public static bool Available => File.Exists(Executable);

    public static async Task<HeadlessChromium> StartAsync()
    {
        var profile = Directory.CreateTempSubdirectory("chromium-").FullName;
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (
            var argument in new[]
            {
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                $"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            }
        )
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        var browser = new HeadlessChromium(process, profile);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string? endpoint = null;
        while (endpoint is null && DateTime.UtcNow < deadline)
        {
            var line = await process.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            if (line is null)
            {
                break;
            }

            const string Marker = "DevTools listening on ";
            int at = line.IndexOf(Marker, StringComparison.Ordinal);
            endpoint = at >= 0 ? line[(at + Marker.Length)..].Trim() : null;
        }

        if (endpoint is null)
        {
            await browser.DisposeAsync();
            throw new InvalidOperationException("Chromium did not report its DevTools endpoint.");
        }

        _ = process.StandardError.ReadToEndAsync();
        await browser._socket.ConnectAsync(new Uri(endpoint), CancellationToken.None);
        return browser;
    }

    /// <summary>Opens <paramref name="url"/>, waits for its load event, and returns the value of
    /// <paramref name="expression"/> (evaluated as JSON).</summary>
    public async Task<JsonNode?> EvaluateAfterLoadAsync(string url, string expression)
    {
        var target = await SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" }, null);
        var session = (
            await SendAsync(
                "Target.attachToTarget",
                new JsonObject { ["targetId"] = target!["targetId"]!.GetValue<string>(), ["flatten"] = true },
                null
            )
        )!["sessionId"]!.GetValue<string>();
        await SendAsync("Page.enable", new JsonObject(), session);
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url }, session);
        var script =
            "new Promise(resolve => { const done = () => resolve(JSON.stringify("
            + expression
            + ")); if (document.readyState === 'complete') done(); else window.addEventListener('load', done); })";
        for (int attempt = 0; attempt < 50; attempt++)
        {
            var result = await SendAsync(
                "Runtime.evaluate",
                new JsonObject { ["expression"] = "document.URL", ["returnByValue"] = true },
                session
            );
            if (result!["result"]!["value"]?.GetValue<string>() != "about:blank")
            {
                break;
            }

            await Task.Delay(100);
        }

        var evaluated = await SendAsync(
            "Runtime.evaluate",
            new JsonObject
            {
                ["expression"] = script,
                ["awaitPromise"] = true,
                ["returnByValue"] = true,
            },
            session
        );
        var text = evaluated!["result"]!["value"]?.GetValue<string>()
            ?? throw new InvalidOperationException($"The page's expression failed: {evaluated.ToJsonString()}");
        return JsonNode.Parse(text);
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException) { }
    }

    private async Task<JsonNode?> SendAsync(string method, JsonObject parameters, string? session)
    {
        int id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject
        {
            ["id"] = id,
            ["method"] = method,
            ["params"] = parameters,
        };
        if (session is not null)
        {
            message["sessionId"] = session;
        }

        await _socket.SendAsync(
            Encoding.UTF8.GetBytes(message.ToJsonString()),
            WebSocketMessageType.Text,
            true,
            CancellationToken.None
        );
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var reply = await ReceiveAsync(timeout.Token);
            if (reply["id"]?.GetValue<int>() == id)
            {
                return reply["error"] is { } error
                    ? throw new InvalidOperationException($"{method}: {error.ToJsonString()}")
                    : reply["result"];
            }
        }
    }

    private async Task<JsonNode> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer, cancellationToken);
            message.Write(buffer, 0, result.Count);
        } while (!result.EndOfMessage);
        return JsonNode.Parse(message.ToArray())!;
    }
}
