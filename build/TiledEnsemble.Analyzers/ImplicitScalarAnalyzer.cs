using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace TiledEnsemble.Analyzers;

/// <summary>
/// Reports every TorchSharp.Scalar temporary: user-defined conversions to <c>TorchSharp.Scalar</c> in our code
/// (<c>t.ge(0.5)</c>), and calls of TorchSharp members that make one inside and drop it (<c>t + u</c>,
/// <c>t.add(u)</c>, <c>t * 2.0</c>, <c>t.ToSingle()</c>, a training BatchNorm's forward; see
/// <see cref="ScalarTemporaryMembers"/>).
/// </summary>
/// <remarks>
/// TorchSharp 0.107 reads the native handle of such a temporary Scalar and then passes it to libtorch; nothing keeps
/// the managed object alive during that call, so a garbage collection started by another thread can finalize it and
/// free the native scalar while libtorch still reads it. That showed up here as "Unknown scalar type" errors and
/// intermittent SIGSEGVs under load (TorchSharp PRs 1434 and 1496 discuss the leak side of the same design).
/// Creating the Scalar with <c>using var s = value.ToScalar();</c> keeps it referenced until after the call; so does
/// passing a process-lifetime constant (<c>t.add(u, Scalars.One)</c>).
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ImplicitScalarAnalyzer : DiagnosticAnalyzer
{
    public const string DiagnosticId = "TE0001";

    private static readonly DiagnosticDescriptor Rule = new(
        DiagnosticId,
        "Implicit TorchSharp.Scalar temporary",
        "'{0}' makes a TorchSharp.Scalar that nothing holds while libtorch reads it, so a collection can finalize it "
            + "mid-call. Hold it ('using var s = value.ToScalar();'), pass it explicitly (t.add(u, Scalars.One)), or "
            + "use a tensor operand.",
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
            var scalar = start.Compilation.GetTypeByMetadataName("TorchSharp.Scalar");
            if (scalar is null)
            {
                return;
            }

            // TorchSharp members that make a Scalar inside and drop it (ScalarTemporaryMembers, read from TorchSharp's
            // IL): t + u and t.add(u) pass an implicit 1 as alpha, t * 2.0 converts the 2.0, t.ToSingle() reads a
            // Scalar nothing holds, BatchNorm.forward adds an implicit 1 in training.
            start.RegisterOperationAction(
                operationContext =>
                {
                    var method = operationContext.Operation switch
                    {
                        IInvocationOperation invocation => invocation.TargetMethod,
                        IBinaryOperation binary => binary.OperatorMethod,
                        IUnaryOperation unary => unary.OperatorMethod,
                        IConversionOperation conversion => conversion.OperatorMethod,
                        IObjectCreationOperation creation => creation.Constructor,
                        IPropertyReferenceOperation property => property.Property.GetMethod,
                        _ => null,
                    };
                    if (method is not null && ScalarTemporaryMembers.Keys.Contains(Key(method)))
                    {
                        Report(operationContext);
                    }
                    else if (
                        operationContext.Operation
                            is IInvocationOperation
                            {
                                TargetMethod.Name: "call" or "forward",
                                Instance.Type: { } receiver
                            }
                        && Forward(receiver) is { } forward
                        && ScalarTemporaryMembers.Keys.Contains(Key(forward))
                    )
                    {
                        // module.call(x) dispatches to the receiver's forward, which the invocation does not name.
                        Report(operationContext);
                    }
                },
                OperationKind.Invocation,
                OperationKind.Binary,
                OperationKind.Unary,
                OperationKind.Conversion,
                OperationKind.ObjectCreation,
                OperationKind.PropertyReference
            );

            // torch.optim's optimizers make temporary Scalars in every step, which is reached through Optimizer.step.
            start.RegisterOperationAction(
                operationContext =>
                {
                    var invocation = (IInvocationOperation)operationContext.Operation;
                    if (invocation.TargetMethod.ContainingType?.ToDisplayString() == "TorchSharp.torch.optim")
                    {
                        Report(operationContext);
                    }
                },
                OperationKind.Invocation
            );

            start.RegisterOperationAction(
                operationContext =>
                {
                    var conversion = (IConversionOperation)operationContext.Operation;
                    if (
                        conversion.Conversion.IsUserDefined
                        && SymbolEqualityComparer.Default.Equals(conversion.Type, scalar)
                    )
                    {
                        operationContext.ReportDiagnostic(
                            Diagnostic.Create(
                                Rule,
                                conversion.Operand.Syntax.GetLocation(),
                                conversion.Operand.Syntax.ToString()
                            )
                        );
                    }
                },
                OperationKind.Conversion
            );
        });
    }

    private static void Report(OperationAnalysisContext context) =>
        context.ReportDiagnostic(
            Diagnostic.Create(Rule, context.Operation.Syntax.GetLocation(), context.Operation.Syntax.ToString())
        );

    /// <summary>The forward that a call on <paramref name="receiver"/> runs: the most derived declaration.</summary>
    private static IMethodSymbol? Forward(ITypeSymbol receiver)
    {
        for (var type = receiver; type is not null; type = type.BaseType)
        {
            var forward = type.GetMembers("forward").OfType<IMethodSymbol>().FirstOrDefault(m => !m.IsStatic);
            if (forward is not null)
            {
                return forward;
            }
        }

        return null;
    }

    /// <summary>The key of <see cref="ScalarTemporaryMembers"/>: metadata names, as reflection spells them.</summary>
    private static string Key(IMethodSymbol method)
    {
        method = (method.ReducedFrom ?? method).OriginalDefinition;
        var parameters = string.Join(",", method.Parameters.Select(p => ShortName(p.Type)));
        return $"{TypeName(method.ContainingType)}::{method.MetadataName}({parameters})";
    }

    private static string TypeName(INamedTypeSymbol type) =>
        type.ContainingType is { } outer
            ? TypeName(outer) + "+" + type.MetadataName
            : (type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() + "." : string.Empty)
                + type.MetadataName;

    private static string ShortName(ITypeSymbol type) =>
        type switch
        {
            IArrayTypeSymbol array => ShortName(array.ElementType) + "[" + new string(',', array.Rank - 1) + "]",
            IPointerTypeSymbol pointer => ShortName(pointer.PointedAtType) + "*",
            _ => type.MetadataName,
        };
}
