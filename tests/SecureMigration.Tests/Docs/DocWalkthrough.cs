using System.Text;

namespace SecureMigration.Tests.Docs;

/// <summary>
/// Reads the shell commands of one section of a Markdown document, in order, with the host each runs on: a block
/// after a paragraph that begins "Destination host" or "Source host" runs there, and inside a block the comments
/// "# destination" and "# source" switch hosts; everything else runs on the workstation.
/// </summary>
public static class DocWalkthrough
{
    public static IReadOnlyList<DocStep> Read(string markdown, string heading)
    {
        string[] lines = markdown.Split('\n');
        int start = Array.FindIndex(lines, line => line.StartsWith(heading, StringComparison.Ordinal));
        Assert.True(start >= 0, $"the document has no section '{heading}'");
        var steps = new List<DocStep>();
        DocHost prose = DocHost.Workstation;
        DocHost? block = null;
        var command = new StringBuilder();
        for (int i = start + 1; i < lines.Length && !lines[i].StartsWith("## ", StringComparison.Ordinal); i++)
        {
            string line = lines[i].TrimEnd();
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                block = block is null && line == "```sh" ? prose : null;
                continue;
            }

            if (block is not { } host)
            {
                prose = line.StartsWith("Destination host", StringComparison.Ordinal) ? DocHost.Destination
                    : line.StartsWith("Source host", StringComparison.Ordinal) ? DocHost.Source
                    : line.Length > 0 ? DocHost.Workstation : prose;
                continue;
            }

            if (line.EndsWith('\\'))
            {
                command.Append(line[..^1].Trim()).Append(' ');
                continue;
            }

            string whole = command.Append(line.Trim()).ToString().Trim();
            command.Clear();
            if (whole.Length == 0)
            {
                continue;
            }

            block = whole == "# destination" ? DocHost.Destination : whole.StartsWith("# source",
                StringComparison.Ordinal) ? DocHost.Source : host;
            if (whole != "# destination" && !whole.StartsWith("# source", StringComparison.Ordinal))
            {
                steps.Add(new DocStep(host, whole));
            }
        }

        return steps;
    }
}
