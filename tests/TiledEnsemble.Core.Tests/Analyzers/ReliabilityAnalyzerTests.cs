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

/// <summary>The build-time guards TE0001 and TE0002 still recognise TorchSharp's temporary Scalars and unscoped temporary tensors (a TorchSharp upgrade could silently blind them).</summary>
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
    public void ReportsATemporaryScalar(string expression) =>
        Assert.Contains(Diagnose($"var r = {expression};"), d => d.Id == "TE0001");

    [Fact]
    public void ReportsTorchSharpsOptimizers() =>
        Assert.Contains(Diagnose("var o = torch.optim.Adam(new TorchSharp.Modules.Parameter[0], 0.001);"), d => d.Id == "TE0001");

    [Theory]
    [InlineData("using var s = 0.5.ToScalar(); var r = t.ge(s);")]
    [InlineData("var r = t * t + t.pow(t);")]
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
        var compilation = CSharpCompilation.Create("probe", new[] { CSharpSyntaxTree.ParseText(source) }, references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var compileErrors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(compileErrors.Count == 0, string.Join("\n", compileErrors));

        var path = Path.Combine(AppContext.BaseDirectory, "analyzers", "TiledEnsemble.Analyzers.dll");
        var analyzers = Assembly.LoadFrom(path).GetTypes()
            .Where(t => typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && !t.IsAbstract)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
            .ToImmutableArray();
        Assert.NotEmpty(analyzers);
        return compilation.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
    }
}
