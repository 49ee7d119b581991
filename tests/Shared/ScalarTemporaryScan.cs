using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using TorchSharp;

namespace TiledEnsemble.Tests;

/// <summary>
/// Reads TorchSharp's IL to find its public members that make a <see cref="Scalar"/> and drop it without disposing
/// it (or that call such a member): while libtorch reads that temporary, a collection on another thread can finalize
/// it and free the native scalar. The repository's analyzer TE0001 carries the same list, keyed as <see cref="Key"/>
/// writes it; the tests compare the two so that a TorchSharp upgrade cannot blind the analyzer.
/// </summary>
internal static class ScalarTemporaryScan
{
    private const BindingFlags Declared =
        BindingFlags.Public
        | BindingFlags.NonPublic
        | BindingFlags.Instance
        | BindingFlags.Static
        | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private static readonly Lazy<IReadOnlySet<string>> Members = new(Scan);

    /// <summary>Keys of TorchSharp's public members (methods, operators, property getters, constructors) that drop a
    /// temporary Scalar.</summary>
    public static IReadOnlySet<string> UnsafeMembers => Members.Value;

    /// <summary>
    /// <c>Namespace.Outer+Inner::name(ParameterTypeName,...)</c>: the declaring type's metadata name, the member's
    /// metadata name, and the short metadata names of the parameter types (by-reference marks dropped).
    /// </summary>
    public static string Key(MethodBase method)
    {
        var parameters = string.Join(",", method.GetParameters().Select(p => p.ParameterType.Name.TrimEnd('&')));
        return $"{method.DeclaringType!.FullName}::{method.Name}({parameters})";
    }

    /// <summary>Whether <paramref name="module"/>'s <c>forward</c> (as its runtime type overrides it) drops a temporary
    /// Scalar.</summary>
    public static bool HasUnsafeForward(torch.nn.Module module)
    {
        for (var type = module.GetType(); type is not null; type = type.BaseType)
        {
            var forward = type.GetMethods(Declared).FirstOrDefault(m => m.Name == "forward");
            if (forward is not null)
            {
                return UnsafeMembers.Contains(Key(forward));
            }
        }

        return false;
    }

    private static IReadOnlySet<string> Scan()
    {
        var scalar = typeof(Scalar);
        var calls = new Dictionary<MethodBase, List<MethodBase>>();
        var unsafeMethods = new HashSet<MethodBase>();
        foreach (var type in typeof(torch).Assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
            {
                var callees = Callees(method);
                calls[method] = callees;
                bool makesScalar = callees.Any(c =>
                    c is MethodInfo { ReturnType: var r } && r == scalar
                    || c is ConstructorInfo && c.DeclaringType == scalar
                );
                bool disposesScalar = callees.Any(c =>
                    c.DeclaringType == scalar && c.Name == nameof(Scalar.Dispose)
                    || c.DeclaringType == typeof(GC) && c.Name == nameof(GC.KeepAlive)
                );
                if (makesScalar && !disposesScalar && !ReturnsScalar(method))
                {
                    unsafeMethods.Add(method);
                }
            }
        }

        // A member that calls an unsafe member is unsafe itself (operator + calls add(Tensor), which makes the 1).
        bool grew = true;
        while (grew)
        {
            grew = false;
            foreach (var (method, callees) in calls)
            {
                if (!unsafeMethods.Contains(method) && !ReturnsScalar(method) && callees.Any(unsafeMethods.Contains))
                {
                    unsafeMethods.Add(method);
                    grew = true;
                }
            }
        }

        return unsafeMethods
            .Where(m => (m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly) && m.DeclaringType!.IsVisible)
            .Select(Key)
            .ToHashSet(StringComparer.Ordinal);

        bool ReturnsScalar(MethodBase m) => m is MethodInfo info && info.ReturnType == scalar;
    }

    private static List<MethodBase> Callees(MethodBase method)
    {
        var callees = new List<MethodBase>();
        byte[]? il;
        try
        {
            il = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (BadImageFormatException)
        {
            return callees;
        }

        if (il is null)
        {
            return callees;
        }

        var typeArguments = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            var opCode = OpCodesByValue[value];
            i += opCode.Size;
            if (opCode.OperandType == OperandType.InlineMethod)
            {
                try
                {
                    var callee = method.Module.ResolveMethod(
                        BitConverter.ToInt32(il, i),
                        typeArguments,
                        methodArguments
                    );
                    if (callee is not null)
                    {
                        callees.Add(callee);
                    }
                }
                catch (Exception e)
                    when (e is ArgumentException or TypeLoadException or System.IO.FileNotFoundException)
                {
                    // A member reference into an assembly this process did not load: not TorchSharp's Scalar.
                }
            }

            i += OperandSize(opCode.OperandType, il, i);
        }

        return callees;
    }

    private static int OperandSize(OperandType type, byte[] il, int at) =>
        type switch
        {
            OperandType.InlineNone => 0,
            OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
            OperandType.InlineVar => 2,
            OperandType.InlineI8 or OperandType.InlineR => 8,
            OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
            _ => 4,
        };
}
