using System.Text.Json;
using System.Text.Json.Serialization;

namespace SecureMigration.Cli.Terminal;

/// <summary>How every <c>--json</c> output is written: indented, camelCase, enums by name.</summary>
internal static class CliJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };
}
