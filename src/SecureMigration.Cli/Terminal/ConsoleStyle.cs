namespace SecureMigration.Cli.Terminal;

/// <summary>Colour and progress only on a terminal; <c>NO_COLOR</c> turns colour off.</summary>
internal sealed class ConsoleStyle(TextWriter output, bool isTerminal, bool useColor)
{
    public static ConsoleStyle Standard { get; } = new(Console.Out, !Console.IsOutputRedirected,
        !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")));

    public TextWriter Output => output;

    public bool IsTerminal => isTerminal;

    public string Good(string text) => Paint("32", text);

    public string Bad(string text) => Paint("31", text);

    public string Strong(string text) => Paint("1", text);

    public string Dim(string text) => Paint("2", text);

    public void Line(string text = "") => output.WriteLine(text);

    private string Paint(string code, string text) => useColor ? $"\u001b[{code}m{text}\u001b[0m" : text;
}
