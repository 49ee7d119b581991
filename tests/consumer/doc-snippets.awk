# Turns every ```csharp block of the given Markdown files into a method of one class, so that the consumer app
# compiles the documentation's examples against the packages; a block tagged ```csharp types holds type declarations
# (a stage or model of one's own) and is compiled as such, in a namespace of its own. Namespace usings found in a block
# are hoisted; the free names that examples use without declaring (services, configuration, provider, images) are
# parameters.
BEGIN { n = 0; t = 0 }
/^```csharp[ \t]*$/ { inside = 1; n++; body[n] = ""; origin[n] = FILENAME ":" FNR; next }
/^```csharp types[ \t]*$/ { declaring = 1; t++; types[t] = "// " FILENAME ":" FNR "\n"; next }
/^```[ \t]*$/ { inside = 0; declaring = 0; next }
(inside || declaring) && /^using [A-Za-z0-9_.]+;[ \t]*$/ { usings[$0] = 1; next }
(inside || declaring) && /^using static [A-Za-z0-9_.]+;[ \t]*$/ { usings[$0] = 1; next }
declaring { types[t] = types[t] $0 "\n"; next }
inside { body[n] = body[n] "        " $0 "\n" }
END {
    print "#pragma warning disable CS1998, CS0168, CS0219, CS8321"
    split("System System.Collections.Generic System.Threading System.Threading.Tasks Microsoft.Extensions.Configuration Microsoft.Extensions.DependencyInjection TiledEnsemble TiledEnsemble.Configuration TiledEnsemble.Data.Datasets TiledEnsemble.Models TiledEnsemble.Models.Backbones TiledEnsemble.Models.Training TiledEnsemble.PostProcessing TiledEnsemble.Tiling", common, " ")
    for (c in common) usings["using " common[c] ";"] = 1
    usings["using static TorchSharp.torch;"] = 1
    for (u in usings) print u
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
    print ""
    print "namespace DocTypes"
    print "{"
    for (i = 1; i <= t; i++) printf "%s\n", types[i]
    print "}"
}
