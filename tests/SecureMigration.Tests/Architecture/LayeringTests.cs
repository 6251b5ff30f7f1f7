using System.Text.RegularExpressions;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Architecture;

/// <summary>
/// The dependency rule of docs/architecture.md, read from the library's sources: a namespace's <c>using</c> lines may
/// name its own layer or one below, never one above. Folders are namespaces (IDE0130), so the lines are the truth but
/// for one hole: C# finds the types of an enclosing namespace without a <c>using</c> (the journal, in
/// <c>Coordination.Journal</c>, could name <c>Coordination</c>'s types), so the code is also searched for the type names
/// an enclosing namespace of a higher layer declares.
/// </summary>
public sealed partial class LayeringTests
{
    private static readonly (string Prefix, int Layer)[] Layers =
    [
        ("Text", 0), ("Storage", 0), ("Transport", 0), ("RateLimiting", 0), ("Telemetry", 0), ("", 0),
        ("Identity", 1),
        ("Channel", 2),
        ("Admission", 3),
        ("Sanitization", 4),
        ("Audit", 5), ("Coordination.Phases", 5), ("Coordination.Journal", 5), ("Coordination.Ownership", 5),
        ("Coordination", 6),
        ("DependencyInjection", 7), ("Tunnel", 7), ("Hosting", 7),
    ];

    [Fact]
    public void NoNamespaceOfTheLibrary_UsesOneInAHigherLayer()
    {
        List<SourceFile> sources = LibrarySources();
        var violations = new List<string>();
        foreach (SourceFile file in sources)
        {
            foreach (Match used in UsingLine().Matches(file.Text))
            {
                string to = Relative(used.Groups[1].Value);
                if (LayerOf(to) > LayerOf(file.Namespace))
                {
                    violations.Add($"{file.Path}: {Display(file.Namespace)} (layer {LayerOf(file.Namespace)}) uses {Display(to)} (layer " +
                        $"{LayerOf(to)})");
                }
            }
        }

        Assert.True(sources.Count > 100, $"Only {sources.Count} source files were read; the test no longer sees the library.");
        Assert.Empty(violations);
    }

    [Fact]
    public void NoNamespaceOfTheLibrary_NamesATypeOfAnEnclosingNamespaceInAHigherLayer()
    {
        List<SourceFile> sources = LibrarySources();
        ILookup<string, string> typesByNamespace = sources
            .SelectMany(f => TypeDeclaration().Matches(f.Text).Select(m => (f.Namespace, Type: m.Groups[1].Value)))
            .ToLookup(t => t.Namespace, t => t.Type);
        var violations = new List<string>();
        foreach (SourceFile file in sources)
        {
            string code = string.Join('\n', file.Text.Split('\n').Where(line => !line.TrimStart().StartsWith("//",
                StringComparison.Ordinal)));
            foreach (string enclosing in EnclosingNamespaces(file.Namespace).Where(e => LayerOf(e) > LayerOf(file.Namespace)))
            {
                foreach (string type in typesByNamespace[enclosing].Where(t => Regex.IsMatch(code, $@"\b{t}\b")))
                {
                    violations.Add($"{file.Path}: {Display(file.Namespace)} (layer {LayerOf(file.Namespace)}) names {type} of " +
                        $"{Display(enclosing)} (layer {LayerOf(enclosing)})");
                }
            }
        }

        Assert.Contains("MigrationCoordinator", typesByNamespace["Coordination"]);
        Assert.Empty(violations);
    }

    [Theory]
    [InlineData("Identity", "Channel", true)]
    [InlineData("Channel", "Identity", false)]
    [InlineData("Sanitization", "Coordination.Residues", true)]
    [InlineData("Coordination.Ownership", "Coordination", true)]
    [InlineData("Coordination.Residues", "Sanitization", false)]
    public void TheRule_RefusesOnlyUpwardUses(string from, string to, bool refused) =>
        Assert.Equal(refused, LayerOf(to) > LayerOf(from));

    private static List<SourceFile> LibrarySources()
    {
        string source = Path.Combine(Repository.Root, "src", "SecureMigration");
        var files = new List<SourceFile>();
        foreach (string file in Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            string text = File.ReadAllText(file);
            Match declared = NamespaceLine().Match(text);
            if (declared.Success && declared.Groups[1].Value.StartsWith("SecureMigration", StringComparison.Ordinal))
            {
                // (the DI extension lives in Microsoft.Extensions.DependencyInjection by convention: the top layer)
                files.Add(new SourceFile(Path.GetRelativePath(source, file), Relative(declared.Groups[1].Value), text));
            }
        }

        return files;
    }

    private static IEnumerable<string> EnclosingNamespaces(string relativeNamespace)
    {
        for (int dot = relativeNamespace.LastIndexOf('.'); dot > 0; dot = relativeNamespace.LastIndexOf('.', dot - 1))
        {
            yield return relativeNamespace[..dot];
        }

        if (relativeNamespace.Length > 0)
        {
            yield return "";
        }
    }

    private static int LayerOf(string relativeNamespace) => Layers
        .Where(l => l.Prefix.Length == 0 || relativeNamespace == l.Prefix || relativeNamespace.StartsWith(l.Prefix + ".",
            StringComparison.Ordinal))
        .OrderByDescending(l => l.Prefix.Length)
        .First().Layer;

    private static string Relative(string fullNamespace) =>
        fullNamespace == "SecureMigration" ? "" : fullNamespace["SecureMigration.".Length..];

    private static string Display(string relativeNamespace) => relativeNamespace.Length == 0 ? "SecureMigration" : relativeNamespace;

    [GeneratedRegex(@"^namespace ([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^(?:public|internal) (?:[a-z]+ )*(?:class|struct|interface|enum|record|delegate [\w<>?]+) (\w+)",
        RegexOptions.Multiline)]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"^using (SecureMigration(?:\.[\w.]+)?);", RegexOptions.Multiline)]
    private static partial Regex UsingLine();

    private sealed record SourceFile(string Path, string Namespace, string Text);
}
