# Turns every ```csharp block of the given Markdown files into a method of one class, so that the consumer app
# compiles the documentation's examples against the packages. Namespace usings found in a block are hoisted; the
# free names that examples use without declaring (services, configuration, provider, images) are parameters.
BEGIN { n = 0 }
/^```csharp[ \t]*$/ { inside = 1; n++; body[n] = ""; origin[n] = FILENAME ":" FNR; next }
/^```[ \t]*$/ { inside = 0; next }
inside && /^using [A-Za-z0-9_.]+;[ \t]*$/ { usings[$0] = 1; next }
inside { body[n] = body[n] "        " $0 "\n" }
END {
    print "#pragma warning disable CS1998, CS0168, CS0219, CS8321"
    split("System System.Collections.Generic System.Threading System.Threading.Tasks Microsoft.Extensions.Configuration Microsoft.Extensions.DependencyInjection TiledEnsemble TiledEnsemble.Configuration TiledEnsemble.Data.Datasets TiledEnsemble.Models TiledEnsemble.Models.Backbones TiledEnsemble.Models.Training TiledEnsemble.PostProcessing TiledEnsemble.Tiling", common, " ")
    for (c in common) usings["using " common[c] ";"] = 1
    for (u in usings) print u
    print "using static TorchSharp.torch;"
    print ""
    print "internal static class DocSnippets"
    print "{"
    for (i = 1; i <= n; i++) {
        print "    // " origin[i]
        print "    internal static async System.Threading.Tasks.Task Snippet" i "(IServiceCollection services, IConfiguration configuration, System.IServiceProvider provider, Tensor images)"
        print "    {"
        printf "%s", body[i]
        print "    }"
        print ""
    }
    print "}"
}
