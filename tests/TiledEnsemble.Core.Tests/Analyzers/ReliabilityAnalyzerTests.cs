using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;

namespace TiledEnsemble.Tests.Analyzers;

/// <summary>The build-time guards TE0001, TE0002 and TE0003 still recognise TorchSharp's temporary Scalars, unscoped
/// temporary tensors and unheld generators (a TorchSharp upgrade could silently blind them).</summary>
public class ReliabilityAnalyzerTests
{
    [Theory]
    [InlineData("t.ge(0.5)")]
    [InlineData("t * 2.0")]
    [InlineData("1 - t")]
    [InlineData("t.clamp(0, 1)")]
    [InlineData("t.square()")]
    [InlineData("torch.arange(3)")]
    [InlineData("torch.full(new long[] { 2 }, 1.5f)")]
    [InlineData("torch.nn.functional.softplus(t)")]
    [InlineData("t + t")]
    [InlineData("t.add(t)")]
    [InlineData("t.add_(t)")]
    [InlineData("t.add(0.5.ToScalar())")]
    [InlineData("t.ToSingle()")]
    [InlineData("(double)t")]
    [InlineData("torch.nn.functional.leaky_relu(t, 0.2)")]
    [InlineData("torch.nn.BatchNorm2d(4).call(t)")]
    [InlineData("torch.nn.BatchNorm2d(4).forward(t)")]
    public void ReportsATemporaryScalar(string expression) =>
        Assert.Contains(Diagnose($"var r = {expression};"), d => d.Id == "TE0001");

    [Fact]
    public void ReportsTorchSharpsOptimizers() =>
        Assert.Contains(Diagnose("var o = torch.optim.Adam(new TorchSharp.Modules.Parameter[0], 0.001);"), d =>
            d.Id == "TE0001"
        );

    [Theory]
    [InlineData("using var s = 0.5.ToScalar(); var r = t.ge(s);")]
    [InlineData("using var one = 1.ToScalar(); var r = t.mul(t).add(t.pow(t), one);")]
    [InlineData("var r = torch.nn.Conv2d(3, 4, 1).call(t);")]
    [InlineData("var r = torch.nn.functional.normalize(t, dim: 1);")]
    public void AcceptsScalarsHeldAcrossTheCall(string statements) =>
        Assert.DoesNotContain(Diagnose(statements), d => d.Id == "TE0001");

    [Theory]
    [InlineData("var r = t.cpu().clone();")]
    [InlineData("var r = t.add(t.mul(t));")]
    [InlineData("var r = (t + t).sum();")]
    [InlineData("var r = t[0].sum();")]
    public void ReportsATemporaryTensorUsedOutsideADisposeScope(string statements) =>
        Assert.Contains(Diagnose(statements), d => d.Id == "TE0002");

    [Theory]
    [InlineData("using var scope = torch.NewDisposeScope(); var r = t.cpu().clone().MoveToOuterDisposeScope();")]
    [InlineData("using var c = t.cpu(); var r = c.clone();")]
    [InlineData("var r = t.add_(t).mul_(t);")]
    [InlineData("using (torch.NewDisposeScope()) { var r = t.add(t.mul(t)); }")]
    public void AcceptsTemporariesInsideAScopeOrHeld(string statements) =>
        Assert.DoesNotContain(Diagnose(statements), d => d.Id == "TE0002");

    [Theory]
    [InlineData("var r = rand(new long[] { 2 }, generator: new Generator(1));")]
    [InlineData("var g = new Generator(1); var r = rand(new long[] { 2 }, generator: g);")]
    public void ReportsAGeneratorNotHeldByAUsing(string statements) =>
        Assert.Contains(Diagnose(statements), d => d.Id == "TE0003");

    [Theory]
    [InlineData("using var g = new Generator(1); var r = rand(new long[] { 2 }, generator: g);")]
    [InlineData("using (var g = new Generator(1)) { var r = rand(new long[] { 2 }, generator: g); }")]
    public void AcceptsAGeneratorHeldByAUsing(string statements) =>
        Assert.DoesNotContain(Diagnose(statements), d => d.Id == "TE0003");

    [Fact]
    public void LinesOver120BytesOfUtf8AreReportedWithTheirLength()
    {
        // The probe puts statements 8 spaces in; `var text = "…";` adds 14 characters around the filler.
        static string Line(string filler) => "var text = \"" + filler + "\";";
        const int Around = 8 + 14;
        Assert.DoesNotContain(Diagnose(Line(new string('a', 120 - Around))), d => d.Id == "TE0004");
        var ascii = Diagnose(Line(new string('a', 121 - Around)));
        Assert.Contains(ascii, d => d.Id == "TE0004" && d.GetMessage().Contains("121 bytes"));

        // 120 characters, but × is two bytes of UTF-8.
        var wide = Line(new string('a', 119 - Around) + "×");
        Assert.Equal(120 - 8, wide.Length);
        Assert.Contains(Diagnose(wide), d => d.Id == "TE0004" && d.GetMessage().Contains("121 bytes"));
    }

    /// <summary>
    /// The analyzer's list of TorchSharp members that drop a temporary Scalar is what TorchSharp's IL says: the scan
    /// finds every member that makes a Scalar without disposing it, and every member that calls one.
    /// </summary>
    [Fact]
    public void ListMatchesTorchSharpsIl()
    {
        var listed = (
            (System.Collections.Generic.IEnumerable<string>)
                LoadAnalyzerAssembly()
                    .GetType("TiledEnsemble.Analyzers.ScalarTemporaryMembers", throwOnError: true)!
                    .GetField("Keys")!
                    .GetValue(null)!
        ).ToHashSet();
        var scanned = TiledEnsemble.Tests.ScalarTemporaryScan.UnsafeMembers;
        Assert.Contains("TorchSharp.torch+Tensor::add(Tensor)", scanned);
        Assert.Contains("TorchSharp.Modules.BatchNorm::forward(Tensor)", scanned);
        Assert.DoesNotContain("TorchSharp.torch+Tensor::add(Tensor,Scalar)", scanned);
        var missing = scanned.Except(listed).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var stale = listed.Except(scanned).OrderBy(k => k, StringComparer.Ordinal).ToList();
        Assert.True(
            missing.Count == 0 && stale.Count == 0,
            $"ScalarTemporaryMembers.Keys differs from TorchSharp's IL. Missing: {string.Join(", ", missing)}. "
                + $"Stale: {string.Join(", ", stale)}. "
                + "The whole list:\n"
                + string.Join(",\n", scanned.OrderBy(k => k, StringComparer.Ordinal).Select(k => $"        \"{k}\""))
        );
    }

    private static Assembly LoadAnalyzerAssembly() =>
        Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, "analyzers", "TiledEnsemble.Analyzers.dll"));

    private static ImmutableArray<Diagnostic> Diagnose(string statements)
    {
        var source = $$"""
            using TorchSharp;
            using static TorchSharp.torch;
            public static class Probe
            {
                public static void Run(Tensor t)
                {
                    {{statements}}
                }
            }
            """;
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var references = trusted.Select(p => MetadataReference.CreateFromFile(p)).ToList();
        references.Add(MetadataReference.CreateFromFile(typeof(TorchSharp.torch).Assembly.Location));
        var compilation = CSharpCompilation.Create(
            "probe",
            new[] { CSharpSyntaxTree.ParseText(source) },
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
        );
        var compileErrors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(compileErrors.Count == 0, string.Join("\n", compileErrors));

        var analyzers = LoadAnalyzerAssembly()
            .GetTypes()
            .Where(t => typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && !t.IsAbstract)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
            .ToImmutableArray();
        Assert.NotEmpty(analyzers);
        return compilation.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
    }
}
