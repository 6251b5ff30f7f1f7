using System.Text.Json;

namespace SecureMigration.Cli.Terminal;

/// <summary>How every <c>--json</c> output is written: indented, camelCase.</summary>
internal static class CliJson
{
    public static JsonSerializerOptions Options { get; } = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
}
