using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace TiledEnsemble.Analyzers;

/// <summary>
/// Reports lines longer than 120 bytes of UTF-8 (the limit of .editorconfig). CSharpier lays code out within the limit
/// but leaves long string literals and comments alone; bytes rather than characters, so that a plain <c>awk</c> check
/// agrees (× or σ count twice).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LineLengthAnalyzer : DiagnosticAnalyzer
{
    public const string DiagnosticId = "TE0004";

    public const int Limit = 120;

    private static readonly DiagnosticDescriptor Rule = new(
        DiagnosticId,
        "Line longer than 120 bytes",
        "This line is {0} bytes of UTF-8; lines are at most 120 (.editorconfig). Split the string or comment, or "
            + "name a part of the expression.",
        "Style",
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true
    );

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Rule);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterSyntaxTreeAction(treeContext =>
        {
            var text = treeContext.Tree.GetText(treeContext.CancellationToken);
            foreach (var line in text.Lines)
            {
                // Only lines that might be too long are measured in bytes.
                if (line.Span.Length <= Limit / 4)
                {
                    continue;
                }

                int bytes = Encoding.UTF8.GetByteCount(text.ToString(line.Span));
                if (bytes > Limit)
                {
                    var location = Location.Create(treeContext.Tree, TextSpan.FromBounds(line.Start, line.End));
                    treeContext.ReportDiagnostic(Diagnostic.Create(Rule, location, bytes));
                }
            }
        });
    }
}
