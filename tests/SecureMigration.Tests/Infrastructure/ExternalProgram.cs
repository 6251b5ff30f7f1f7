namespace SecureMigration.Tests.Infrastructure;

/// <summary>Finds external programs on PATH; tests that need one skip without it unless SECMIG_REQUIRE_EXTERNAL=1.</summary>
public static class ExternalProgram
{
    public static bool Required => Environment.GetEnvironmentVariable("SECMIG_REQUIRE_EXTERNAL") == "1";

    public static string? Find(string name)
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            string candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static string Require(string name) => Find(name) ?? throw new InvalidOperationException(
        $"'{name}' is not on PATH, and SECMIG_REQUIRE_EXTERNAL=1 demands it. Install it (.ci/run does: apt-get install {name}).");
}

/// <summary>A fact that needs an external program: skipped with the reason when it is missing, failed when it is required.</summary>
public sealed class RequiresProgramFactAttribute : FactAttribute
{
    public RequiresProgramFactAttribute(string program)
    {
        if (ExternalProgram.Find(program) is null && !ExternalProgram.Required)
        {
            Skip = $"'{program}' is not installed; install it or run .ci/run (set SECMIG_REQUIRE_EXTERNAL=1 to make this a failure).";
        }
    }
}

/// <summary>A theory that needs an external program, skipped without it (as <see cref="RequiresProgramFactAttribute"/>).</summary>
public sealed class RequiresProgramTheoryAttribute : TheoryAttribute
{
    public RequiresProgramTheoryAttribute(string program)
    {
        if (ExternalProgram.Find(program) is null && !ExternalProgram.Required)
        {
            Skip = $"'{program}' is not installed; install it or run .ci/run (set SECMIG_REQUIRE_EXTERNAL=1 to make this a failure).";
        }
    }
}

/// <summary>A fact that runs real QEMU guests: needs qemu-system-x86_64, and as and ld to build the guest.</summary>
public sealed class RequiresQemuFactAttribute : FactAttribute
{
    /// <param name="alsoNeeded">Other programs the test needs, such as "etcd".</param>
    public RequiresQemuFactAttribute(params string[] alsoNeeded)
    {
        string? missing = new[] { "qemu-system-x86_64", "as", "ld" }.Concat(alsoNeeded).FirstOrDefault(p =>
            ExternalProgram.Find(p) is null);
        if (missing is not null && !ExternalProgram.Required)
        {
            Skip = $"'{missing}' is not installed; install qemu-system-x86, binutils and what else the test names, or run .ci/run (set " +
                $"SECMIG_REQUIRE_EXTERNAL=1 to " +
                $"make this a failure).";
        }
    }
}
