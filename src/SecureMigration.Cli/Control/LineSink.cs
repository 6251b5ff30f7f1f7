using System.Text;

namespace SecureMigration.Cli.Control;

/// <summary>A writer that hands each whole line to <paramref name="line"/> (the display of a migration the agent runs for its
/// control API writes there what a terminal would show).</summary>
/// <param name="line">Receives each line, without its end.</param>
internal sealed class LineSink(Action<string> line) : TextWriter
{
    private readonly StringBuilder _pending = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        if (value == '\n')
        {
            line(_pending.ToString().TrimEnd('\r'));
            _pending.Clear();
        }
        else
        {
            _pending.Append(value);
        }
    }
}
