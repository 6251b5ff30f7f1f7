using System.CommandLine.Parsing;
using System.Globalization;

namespace SecureMigration.Cli.Commands;

/// <summary>Parses <c>--allow-user</c> values: a numeric uid, or a user name from <c>/etc/passwd</c>.</summary>
internal static class LocalUsers
{
    public static int[] Parse(ArgumentResult result)
    {
        var uids = new List<int>();
        foreach (string value in result.Tokens.Select(t => t.Value))
        {
            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int uid))
            {
                uids.Add(uid);
            }
            else if (Lookup(value) is { } named)
            {
                uids.Add(named);
            }
            else
            {
                result.AddError($"--allow-user '{value}' is neither a uid nor a user in /etc/passwd; give the numeric uid (id -u NAME).");
            }
        }

        return [.. uids];
    }

    private static int? Lookup(string name)
    {
        const string passwd = "/etc/passwd";
        if (!File.Exists(passwd))
        {
            return null;
        }

        foreach (string line in File.ReadLines(passwd))
        {
            // name:password:uid:gid:gecos:home:shell
            string[] fields = line.Split(':');
            if (fields.Length > 2 && string.Equals(fields[0], name, StringComparison.Ordinal) &&
                int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out int uid))
            {
                return uid;
            }
        }

        return null;
    }
}
