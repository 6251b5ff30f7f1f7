using System.Text.Json.Serialization;
using SecureMigration.Identity;

namespace SecureMigration.Sanitization;

/// <summary>Source-generated JSON for certificates (trimming- and AOT-safe), indented for people to read.</summary>
[JsonSerializable(typeof(SanitizationCertificate))]
[JsonSerializable(typeof(SignedEnvelope))]
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
internal sealed partial class SanitizationJson : JsonSerializerContext;
