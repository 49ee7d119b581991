using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace TiledEnsemble.Analyzers;

/// <summary>
/// Reports every user-defined conversion to <c>TorchSharp.Scalar</c> (<c>t.ge(0.5)</c>, <c>t * 2.0</c>, ...).
/// </summary>
/// <remarks>
/// TorchSharp 0.107 reads the native handle of such a temporary Scalar and then passes it to libtorch; nothing keeps
/// the managed object alive during that call, so a garbage collection started by another thread can finalize it and
/// free the native scalar while libtorch still reads it. That showed up here as "Unknown scalar type" errors and
/// intermittent SIGSEGVs under load (TorchSharp PRs 1434 and 1496 discuss the leak side of the same design).
/// Creating the Scalar with <c>using var s = value.ToScalar();</c> keeps it referenced until after the call.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ImplicitScalarAnalyzer : DiagnosticAnalyzer
{
    public const string DiagnosticId = "TE0001";

    private static readonly DiagnosticDescriptor Rule = new(
        DiagnosticId,
        "Implicit TorchSharp.Scalar temporary",
        "'{0}' is converted to TorchSharp.Scalar implicitly; the temporary can be finalized while libtorch reads it. Create it with 'using var s = value.ToScalar();' (or use a tensor operand).",
        "Reliability",
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => ImmutableArray.Create(Rule);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var scalar = start.Compilation.GetTypeByMetadataName("TorchSharp.Scalar");
            var tensor = start.Compilation.GetTypeByMetadataName("TorchSharp.torch+Tensor");
            var torch = start.Compilation.GetTypeByMetadataName("TorchSharp.torch");
            if (scalar is null || tensor is null || torch is null)
            {
                return;
            }

            // Tensor's operators with a number operand (t * 2.0, 1 - t) convert it to a Scalar inside TorchSharp.
            start.RegisterOperationAction(
                operationContext =>
                {
                    var method = operationContext.Operation switch
                    {
                        IBinaryOperation binary => binary.OperatorMethod,
                        IUnaryOperation unary => unary.OperatorMethod,
                        _ => null,
                    };
                    if (method is not null
                        && SymbolEqualityComparer.Default.Equals(method.ContainingType, tensor)
                        && method.Parameters.Any(p => IsNumber(p.Type)))
                    {
                        operationContext.ReportDiagnostic(Diagnostic.Create(
                            Rule, operationContext.Operation.Syntax.GetLocation(), operationContext.Operation.Syntax.ToString()));
                    }
                },
                OperationKind.Binary,
                OperationKind.Unary);

            // TorchSharp members that build temporary Scalars inside: arange(stop) and arange(start, stop) make the
            // missing bounds, square() is pow(2), softplus/elu/celu convert their doubles, the optimizers in torch.optim
            // do it in every step.
            start.RegisterOperationAction(
                operationContext =>
                {
                    var invocation = (IInvocationOperation)operationContext.Operation;
                    var method = invocation.TargetMethod;
                    var container = method.ContainingType;
                    bool inTorch = container is not null && container.ToDisplayString().StartsWith("TorchSharp.", System.StringComparison.Ordinal);
                    bool unsafeArange = method.Name == "arange"
                        && SymbolEqualityComparer.Default.Equals(container, torch)
                        && method.Parameters.Count(p => SymbolEqualityComparer.Default.Equals(p.Type, scalar)) < 3;
                    bool unsafeMember = inTorch && InternalScalarMembers.Contains(method.Name);
                    bool builtInOptimizer = container is not null && container.ToDisplayString() == "TorchSharp.torch.optim";
                    if (unsafeArange || unsafeMember || builtInOptimizer)
                    {
                        operationContext.ReportDiagnostic(Diagnostic.Create(
                            Rule, invocation.Syntax.GetLocation(), invocation.Syntax.ToString()));
                    }
                },
                OperationKind.Invocation);

            start.RegisterOperationAction(
                operationContext =>
                {
                    var conversion = (IConversionOperation)operationContext.Operation;
                    if (conversion.Conversion.IsUserDefined
                        && SymbolEqualityComparer.Default.Equals(conversion.Type, scalar))
                    {
                        operationContext.ReportDiagnostic(Diagnostic.Create(
                            Rule, conversion.Operand.Syntax.GetLocation(), conversion.Operand.Syntax.ToString()));
                    }
                },
                OperationKind.Conversion);
        });
    }

    private static readonly ImmutableHashSet<string> InternalScalarMembers =
        ImmutableHashSet.Create("square", "square_", "softplus", "elu", "elu_", "celu", "celu_");

    private static bool IsNumber(ITypeSymbol type) => type.SpecialType is SpecialType.System_Int32 or SpecialType.System_Int64
        or SpecialType.System_Single or SpecialType.System_Double or SpecialType.System_Int16 or SpecialType.System_Byte;
}
