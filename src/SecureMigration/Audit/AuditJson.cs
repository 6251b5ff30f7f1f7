using System.Text.Json.Serialization;

namespace SecureMigration.Audit;

/// <summary>Source-generated JSON for audit entries (trimming- and AOT-safe).</summary>
[JsonSerializable(typeof(AuditEntry))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class AuditJson : JsonSerializerContext;
