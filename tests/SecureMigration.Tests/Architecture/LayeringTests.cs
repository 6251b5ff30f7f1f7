using System.Text.RegularExpressions;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Architecture;

/// <summary>
/// The dependency rule of docs/architecture.md, read from the library's sources: a namespace's <c>using</c> lines may
/// name its own layer or one below, never one above. Folders are namespaces (IDE0130), so the lines are the truth.
/// </summary>
public sealed partial class LayeringTests
{
    private static readonly (string Prefix, int Layer)[] Layers =
    [
        ("Text", 0), ("Storage", 0), ("Transport", 0), ("RateLimiting", 0), ("Telemetry", 0), ("", 0),
        ("Identity", 1), ("Pki", 1),
        ("Channel", 2),
        ("Admission", 3),
        ("Sanitization", 4),
        ("Audit", 5), ("Coordination.Journal", 5), ("Coordination.Ownership", 5),
        ("Coordination", 6),
        ("DependencyInjection", 7), ("Tunnel", 7), ("Hosting", 7),
    ];

    [Fact]
    public void NoNamespaceOfTheLibrary_UsesOneInAHigherLayer()
    {
        string source = Path.Combine(Repository.Root, "src", "SecureMigration");
        var violations = new List<string>();
        int files = 0;
        foreach (string file in Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            string text = File.ReadAllText(file);
            Match declared = NamespaceLine().Match(text);
            if (!declared.Success || !declared.Groups[1].Value.StartsWith("SecureMigration", StringComparison.Ordinal))
            {
                continue; // the DI extension lives in Microsoft.Extensions.DependencyInjection by convention: the top layer
            }

            files++;
            string from = Relative(declared.Groups[1].Value);
            foreach (Match used in UsingLine().Matches(text))
            {
                string to = Relative(used.Groups[1].Value);
                if (LayerOf(to) > LayerOf(from))
                {
                    violations.Add($"{Path.GetRelativePath(source, file)}: {Display(from)} (layer {LayerOf(from)}) uses {Display(to)} (layer {LayerOf(to)})");
                }
            }
        }

        Assert.True(files > 100, $"Only {files} source files were read; the test no longer sees the library.");
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

    private static int LayerOf(string relativeNamespace) => Layers
        .Where(l => l.Prefix.Length == 0 || relativeNamespace == l.Prefix || relativeNamespace.StartsWith(l.Prefix + ".", StringComparison.Ordinal))
        .OrderByDescending(l => l.Prefix.Length)
        .First().Layer;

    private static string Relative(string fullNamespace) =>
        fullNamespace == "SecureMigration" ? "" : fullNamespace["SecureMigration.".Length..];

    private static string Display(string relativeNamespace) => relativeNamespace.Length == 0 ? "SecureMigration" : relativeNamespace;

    [GeneratedRegex(@"^namespace ([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^using (SecureMigration(?:\.[\w.]+)?);", RegexOptions.Multiline)]
    private static partial Regex UsingLine();
}
