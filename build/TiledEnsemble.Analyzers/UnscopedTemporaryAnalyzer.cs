using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace TiledEnsemble.Analyzers;

/// <summary>
/// Reports a temporary tensor (the result of a call, an operator or an indexer) that is used again — as the receiver
/// of a call or as an argument — in code that is not inside <c>torch.NewDisposeScope()</c>.
/// </summary>
/// <remarks>
/// TorchSharp reads a tensor's native handle and calls libtorch; nothing keeps the managed wrapper alive during that
/// call. A temporary that no dispose scope holds is unreachable at that moment, and a collection on another thread can
/// run its finalizer, which deletes the native tensor libtorch is reading. This crashed the training of a 64-position
/// ensemble in <c>PadimModel.ExportState</c> (<c>_mean.cpu().clone()</c>). Inside a dispose scope every temporary is
/// registered, hence reachable. Fix: open a scope (and <c>MoveToOuterDisposeScope</c> what is returned), or keep the
/// temporary in a <c>using var</c>.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnscopedTemporaryAnalyzer : DiagnosticAnalyzer
{
    public const string DiagnosticId = "TE0002";

    private static readonly DiagnosticDescriptor Rule = new(
        DiagnosticId,
        "Temporary tensor used outside a dispose scope",
        "The temporary tensor '{0}' is used again outside torch.NewDisposeScope(); the GC can finalize it while "
            + "libtorch reads it. Open a dispose scope in this method or keep it in a 'using var'.",
        "Reliability",
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true
    );

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Rule);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var tensor = start.Compilation.GetTypeByMetadataName("TorchSharp.torch+Tensor");
            if (tensor is null)
            {
                return;
            }

            bool IsTensor(ITypeSymbol? type)
            {
                for (var t = type; t is not null; t = t.BaseType)
                {
                    if (SymbolEqualityComparer.Default.Equals(t, tensor))
                    {
                        return true;
                    }
                }

                return false;
            }

            bool IsTemporary(IOperation? operation)
            {
                while (operation is IConversionOperation { Conversion.IsUserDefined: false } conversion)
                {
                    operation = conversion.Operand;
                }

                return operation is not null
                    && IsTensor(operation.Type)
                    && operation switch
                    {
                        // TorchSharp's in-place methods (add_, mul_, copy_, ...) return their receiver, not a new
                        // tensor.
                        IInvocationOperation { Instance: not null } call
                            when call.TargetMethod.Name.EndsWith("_", System.StringComparison.Ordinal)
                                && IsTensor(call.TargetMethod.ContainingType) => IsTemporary(call.Instance),
                        IInvocationOperation => true,
                        IBinaryOperation { OperatorMethod: not null } => true,
                        IUnaryOperation { OperatorMethod: not null } => true,
                        IPropertyReferenceOperation { Property.IsIndexer: true } indexer => IsTensor(
                            indexer.Property.ContainingType
                        ),
                        _ => false,
                    };
            }

            void Report(OperationAnalysisContext c, IOperation temporary)
            {
                if (!InsideDisposeScope(temporary.Syntax))
                {
                    c.ReportDiagnostic(
                        Diagnostic.Create(Rule, temporary.Syntax.GetLocation(), temporary.Syntax.ToString())
                    );
                }
            }

            start.RegisterOperationAction(
                c =>
                {
                    switch (c.Operation)
                    {
                        case IInvocationOperation invocation:
                            if (IsTemporary(invocation.Instance) && !IsScopeTransfer(invocation.TargetMethod.Name))
                            {
                                Report(c, invocation.Instance!);
                            }

                            foreach (var argument in invocation.Arguments.Where(a => IsTemporary(a.Value)))
                            {
                                Report(c, argument.Value);
                            }

                            break;
                        case IPropertyReferenceOperation property when IsTemporary(property.Instance):
                            Report(c, property.Instance!);
                            break;
                        case IBinaryOperation { OperatorMethod: not null } binary:
                            foreach (
                                var operand in new[] { binary.LeftOperand, binary.RightOperand }.Where(IsTemporary)
                            )
                            {
                                Report(c, operand);
                            }

                            break;
                        case IUnaryOperation { OperatorMethod: not null } unary when IsTemporary(unary.Operand):
                            Report(c, unary.Operand);
                            break;
                    }
                },
                OperationKind.Invocation,
                OperationKind.PropertyReference,
                OperationKind.Binary,
                OperationKind.Unary
            );
        });
    }

    /// <summary>Handing a temporary to an owner is what a temporary is for.</summary>
    private static bool IsScopeTransfer(string method) =>
        method is "MoveToOuterDisposeScope" or "DetachFromDisposeScope" or "Dispose";

    /// <summary>Whether a statement <c>using var … = …NewDisposeScope()</c> (or a using block over one) encloses
    /// the node.</summary>
    private static bool InsideDisposeScope(SyntaxNode node)
    {
        for (var current = node; current is not null; current = current.Parent)
        {
            if (
                current is UsingStatementSyntax usingStatement
                && (
                    usingStatement.Declaration?.ToString() ?? usingStatement.Expression?.ToString() ?? string.Empty
                ).Contains("NewDisposeScope")
            )
            {
                return true;
            }

            if (current.Parent is BlockSyntax block && current is StatementSyntax statement)
            {
                foreach (var earlier in block.Statements.TakeWhile(s => s != statement))
                {
                    if (
                        earlier is LocalDeclarationStatementSyntax declaration
                        && declaration.UsingKeyword.IsKind(SyntaxKind.UsingKeyword)
                        && declaration.Declaration.ToString().Contains("NewDisposeScope")
                    )
                    {
                        return true;
                    }
                }
            }

            if (current is GlobalStatementSyntax global && global.Parent is CompilationUnitSyntax unit)
            {
                // Top-level statements: a scope declared by an earlier top-level statement covers the rest.
                return unit
                    .Members.OfType<GlobalStatementSyntax>()
                    .TakeWhile(g => g != global)
                    .Any(g =>
                        g.Statement is LocalDeclarationStatementSyntax d
                        && d.UsingKeyword.IsKind(SyntaxKind.UsingKeyword)
                        && d.Declaration.ToString().Contains("NewDisposeScope")
                    );
            }

            if (current is MemberDeclarationSyntax)
            {
                return false;
            }
        }

        return false;
    }
}
