namespace SecureMigration.Sanitization;

/// <summary>One write of a pass: at most a block, inside one extent; <see cref="Direct"/> when offset and length suit O_DIRECT.</summary>
internal readonly record struct WipeChunk(long Offset, int Length, bool Direct);
