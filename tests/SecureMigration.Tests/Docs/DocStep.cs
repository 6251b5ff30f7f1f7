namespace SecureMigration.Tests.Docs;

/// <summary>One command of a documented walkthrough, as written, and the host it runs on.</summary>
/// <param name="Host">Where it runs.</param>
/// <param name="Command">The command line, continuation lines joined; a comment keeps its '#'.</param>
public sealed record DocStep(DocHost Host, string Command)
{
    /// <summary>Gets whether the step is a comment (which may still tell the reader to do something, such as a QEMU monitor
    /// command).</summary>
    public bool IsComment => Command.StartsWith('#');
}
