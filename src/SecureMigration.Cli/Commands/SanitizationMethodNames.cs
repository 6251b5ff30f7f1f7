using SecureMigration.Sanitization;

namespace SecureMigration.Cli.Commands;

/// <summary>The sanitization methods by the names the command line uses.</summary>
internal static class SanitizationMethodNames
{
    public static IReadOnlyDictionary<string, SanitizationMethod> All { get; } =
        new Dictionary<string, SanitizationMethod>(StringComparer.OrdinalIgnoreCase)
    {
        ["zero"] = SanitizationMethod.Zero,
        ["ones"] = SanitizationMethod.Ones,
        ["random"] = SanitizationMethod.Random,
        ["nist-clear"] = SanitizationMethod.NistClear,
        ["dod"] = SanitizationMethod.DoD522022M,
        ["gutmann"] = SanitizationMethod.Gutmann,
    };
}
