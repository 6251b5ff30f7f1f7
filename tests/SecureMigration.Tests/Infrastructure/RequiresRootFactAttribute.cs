namespace SecureMigration.Tests.Infrastructure;

/// <summary>A fact that acts as another local user (setpriv): needs root; skipped with the reason elsewhere unless
/// SECMIG_REQUIRE_EXTERNAL=1.</summary>
public sealed class RequiresRootFactAttribute : FactAttribute
{
    public RequiresRootFactAttribute()
    {
        if ((!Environment.IsPrivilegedProcess || ExternalProgram.Find("setpriv") is null) && !ExternalProgram.Required)
        {
            Skip = "this test runs a client as another user with setpriv, which needs root; run it as root (CI does).";
        }
    }
}
