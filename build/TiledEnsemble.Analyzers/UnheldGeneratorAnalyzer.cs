using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace TiledEnsemble.Analyzers;

/// <summary>
/// Reports a <c>torch.Generator</c> created as a call's argument (<c>rand(shape, generator: new Generator(5))</c>) or
/// kept in a local without <c>using</c>.
/// </summary>
/// <remarks>
/// A Generator owns a native generator and has a finalizer; TorchSharp passes its handle to libtorch and nothing keeps
/// the managed object alive during the call (no dispose scope tracks generators). A temporary, or a local past its
/// last use, can be finalized by a collection on another thread while libtorch draws from it — the same race as
/// TE0001's Scalars. <c>using var generator = new Generator(seed);</c> holds it to the end of the block.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnheldGeneratorAnalyzer : DiagnosticAnalyzer
{
    public const string DiagnosticId = "TE0003";

    private static readonly DiagnosticDescriptor Rule = new(
        DiagnosticId,
        "TorchSharp Generator not held across its use",
        "'{0}' is not held by a 'using'; the GC can finalize it while libtorch draws from it. Declare it with 'using "
            + "var generator = new Generator(seed);'.",
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
            var generator = start.Compilation.GetTypeByMetadataName("TorchSharp.torch+Generator");
            if (generator is null)
            {
                return;
            }

            start.RegisterOperationAction(
                operationContext =>
                {
                    var creation = (IObjectCreationOperation)operationContext.Operation;
                    if (SymbolEqualityComparer.Default.Equals(creation.Type, generator) && !IsHeld(creation))
                    {
                        operationContext.ReportDiagnostic(
                            Diagnostic.Create(Rule, creation.Syntax.GetLocation(), creation.Syntax.ToString())
                        );
                    }
                },
                OperationKind.ObjectCreation
            );
        });
    }

    /// <summary>Held: declared by a using, or stored in a field or property (its owner keeps it).</summary>
    private static bool IsHeld(IOperation creation)
    {
        var parent = creation.Parent;
        while (parent is IConversionOperation)
        {
            parent = parent.Parent;
        }

        return parent switch
        {
            IVariableInitializerOperation
            {
                Parent: IVariableDeclaratorOperation
                {
                    Parent: IVariableDeclarationOperation { Parent: var declarationParent }
                }
            } => declarationParent is IUsingOperation or IUsingDeclarationOperation
                || declarationParent
                    is IVariableDeclarationGroupOperation { Parent: IUsingOperation or IUsingDeclarationOperation },
            ISimpleAssignmentOperation { Target: IFieldReferenceOperation or IPropertyReferenceOperation } => true,
            IFieldInitializerOperation or IPropertyInitializerOperation => true,
            _ => false,
        };
    }
}
