using System.Text.Json.Serialization;

namespace SecureMigration.Coordination.Journal;

/// <summary>Source-generated JSON for journal records (trimming- and AOT-safe); enums as names, so a record reads well in a dump.</summary>
[JsonSerializable(typeof(JournalRecord))]
[JsonSourceGenerationOptions(UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class JournalJson : JsonSerializerContext;
