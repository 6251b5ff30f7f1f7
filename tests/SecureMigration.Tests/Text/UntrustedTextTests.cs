using SecureMigration.Text;

namespace SecureMigration.Tests.Text;

public sealed class UntrustedTextTests
{
    [Theory]
    [InlineData("plain reason", "plain reason")]
    [InlineData("two\nlines", "two\\nlines")]
    [InlineData("cr\rtab\t", "cr\\rtab\\t")]
    [InlineData("esc\u001b[2J", "esc\\u001b[2J")]
    [InlineData("bidi\u202eevil", "bidi\\u202eevil")]
    [InlineData("line\u2028sep", "line\\u2028sep")]
    [InlineData("del\u007f", "del\\u007f")]
    [InlineData("ünïcödé 😀", "ünïcödé 😀")]
    [InlineData(null, "")]
    public void Bound_EscapesWhatCouldForgeOrReorderALine(string? text, string expected) =>
        Assert.Equal(expected, UntrustedText.Bound(text));

    [Fact]
    public void Bound_LoneSurrogate_IsReplaced() =>
        Assert.Equal("lone \ufffd surrogate", UntrustedText.Bound("lone " + '\ud800' + " surrogate"));

    [Fact]
    public void Bound_LongText_KeepsTheStartAndSaysHowMuchWasCut()
    {
        string bounded = UntrustedText.Bound(new string('a', 10_000), 100);

        Assert.Equal(new string('a', 100) + "... (9900 more characters cut)", bounded);
    }

    [Fact]
    public void Bound_EscapesCountTowardsTheLimitAndNeverSplitASurrogatePair()
    {
        string bounded = UntrustedText.Bound(new string('\n', 40) + "😀😀", 81);

        Assert.StartsWith(string.Concat(Enumerable.Repeat("\\n", 40)), bounded, StringComparison.Ordinal);
        Assert.Equal("... (4 more characters cut)", bounded[80..]);
    }
}
