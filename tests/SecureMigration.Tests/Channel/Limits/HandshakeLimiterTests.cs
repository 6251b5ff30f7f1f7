using System.Net;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Channel.Limits;

namespace SecureMigration.Tests.Channel.Limits;

/// <summary>The listener's handshake limits, on a fake clock: each test fails if its defence is taken out.</summary>
public sealed class HandshakeLimiterTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch);

    [Theory]
    [InlineData("198.51.100.1", "198.51.100.2", "198.51.100.254", "198.51.100.0/24", "198.51.101.1")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2:1234::5", "2001:db8:1:2::/64", "2001:db8:1:3::1")]
    public void TryEnter_ManyAddressesOfOnePrefix_ShareThePrefixSlots(string first, string second, string third, string prefix,
        string nextPrefix)
    {
        HandshakeLimiter limiter = Limiter(new() { MaxHandshakesPerPrefix = 2 });

        Assert.True(Enter(limiter, first));
        Assert.True(Enter(limiter, second));
        Assert.False(limiter.TryEnter(IPAddress.Parse(third), out HandshakeSource source, out HandshakeRefusal refusal));

        Assert.Equal(HandshakeRefusal.PrefixSlotsFull, refusal);
        Assert.Equal(prefix, source.Name);
        Assert.True(Enter(limiter, nextPrefix), "the next prefix has slots of its own");
    }

    [Fact]
    public void TryEnter_IPv4MappedIPv6Address_CountsAsTheIPv4AddressItIs()
    {
        HandshakeLimiter limiter = Limiter(new() { MaxHandshakesPerPrefix = 2 });

        Assert.True(Enter(limiter, "::ffff:203.0.113.9"));
        Assert.True(Enter(limiter, "203.0.113.10"));

        Assert.False(limiter.TryEnter(IPAddress.Parse("::ffff:203.0.113.11"), out HandshakeSource source, out _));
        Assert.Equal("203.0.113.0/24", source.Name);
    }

    [Theory]
    [InlineData(16, 48, "10.20.30.40", "10.20.0.0/16")]
    [InlineData(32, 128, "10.20.30.40", "10.20.30.40/32")]
    [InlineData(24, 48, "2001:db8:aaaa:bbbb:1::1", "2001:db8:aaaa::/48")]
    [InlineData(24, 56, "2001:db8:aaaa:bbff::1", "2001:db8:aaaa:bb00::/56")]
    [InlineData(20, 64, "::ffff:172.16.31.200", "172.16.16.0/20")]
    public void SourcePrefixes_ConfiguredLengths_GroupByThem(int ipv4, int ipv6, string address, string expected)
    {
        Assert.Equal(IPNetwork.Parse(expected), new SourcePrefixes(ipv4, ipv6).Of(IPAddress.Parse(address)));
    }

    [Fact]
    public void TryEnter_PrefixFasterThanItsRate_IsRefusedUntilTheBucketRefills()
    {
        HandshakeLimiter limiter = Limiter(new() { HandshakesPerSecondPerPrefix = 2, HandshakeBurstPerPrefix = 3 });

        Assert.Equal(3, Enumerable.Range(1, 10).Count(i => EnterAndExit(limiter, $"192.0.2.{i}")));
        Assert.False(limiter.TryEnter(IPAddress.Parse("192.0.2.50"), out _, out HandshakeRefusal refusal));
        Assert.Equal(HandshakeRefusal.PrefixRate, refusal);
        Assert.True(EnterAndExit(limiter, "192.0.3.1"), "another prefix has its own bucket");

        _time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(EnterAndExit(limiter, "192.0.2.51"));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(EnterAndExit(limiter, "192.0.2.52"), "half a second refills one token at 2 a second");
        Assert.False(EnterAndExit(limiter, "192.0.2.53"));

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(3, Enumerable.Range(1, 10).Count(i => EnterAndExit(limiter, $"192.0.2.{i}")));
    }

    [Fact]
    public void TryEnter_UnknownSourcesFillTheirShare_KnownSourceStillGetsTheReservedSlots()
    {
        var options = new SecureChannelListenerOptions
        {
            MaxConcurrentHandshakes = 4,
            MaxHandshakesPerPrefix = 4,
            ReservedForKnownSources = 2,
        };
        options.KnownSources.Add(IPNetwork.Parse("198.51.100.7/32"));
        HandshakeLimiter limiter = Limiter(options);

        Assert.True(Enter(limiter, "203.0.113.1"));
        Assert.True(Enter(limiter, "203.0.113.2"));
        Assert.False(limiter.TryEnter(IPAddress.Parse("192.0.2.1"), out _, out HandshakeRefusal refusal), "unknown sources have 4 - 2");
        Assert.Equal(HandshakeRefusal.SlotsFull, refusal);

        Assert.True(Enter(limiter, "198.51.100.7"));
        Assert.True(Enter(limiter, "::ffff:198.51.100.7"));
        Assert.False(limiter.TryEnter(IPAddress.Parse("198.51.100.7"), out _, out refusal), "no slot is left at all");
        Assert.Equal(HandshakeRefusal.SlotsFull, refusal);
        Assert.Equal(4, limiter.Active);
    }

    [Fact]
    public void TryEnter_FloodFromTheKnownSourcesOwnPrefix_DoesNotTakeTheKnownSourcesSlots()
    {
        var options = new SecureChannelListenerOptions { MaxHandshakesPerPrefix = 2, HandshakeBurstPerPrefix = 2 };
        options.KnownSources.Add(IPNetwork.Parse("::ffff:198.51.100.7/128"));
        HandshakeLimiter limiter = Limiter(options);

        Assert.Equal(2, Enumerable.Range(1, 100).Count(i => Enter(limiter, $"198.51.100.{i + 100}")));

        Assert.True(limiter.TryEnter(IPAddress.Parse("198.51.100.7"), out HandshakeSource known, out _));
        Assert.True(known.IsKnown);
        Assert.Equal("198.51.100.7/32", known.Name);
    }

    [Fact]
    public void TryEnter_MorePrefixesThanTracked_StaysBoundedAndForgetsIdleOnesWhenRoomIsNeeded()
    {
        HandshakeLimiter limiter = Limiter(new() { MaxConcurrentHandshakes = 65_536, ReservedForKnownSources = 0 });
        for (int i = 0; i < HandshakeLimiter.MaxTrackedPrefixes; i++)
        {
            Assert.True(EnterAndExit(limiter, $"2001:db8:{i:x}::1"));
        }

        Assert.Equal(HandshakeLimiter.MaxTrackedPrefixes, limiter.TrackedPrefixes);
        Assert.True(limiter.TryEnter(IPAddress.Parse("2001:db8:ffff::1"), out HandshakeSource overflow, out _));
        Assert.Equal("other sources", overflow.Name);
        limiter.Exit(overflow);

        // Once the buckets have refilled, the idle prefixes are forgotten and a new prefix is tracked on its own.
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(limiter.TryEnter(IPAddress.Parse("2001:db8:fffe::1"), out HandshakeSource fresh, out _));
        Assert.Equal("2001:db8:fffe::/64", fresh.Name);
        Assert.Equal(1, limiter.TrackedPrefixes);
    }

    [Fact]
    public void Exit_GivesTheSlotBack()
    {
        HandshakeLimiter limiter = Limiter(new() { MaxConcurrentHandshakes = 1, MaxHandshakesPerPrefix = 1, ReservedForKnownSources = 0 });
        Assert.True(limiter.TryEnter(IPAddress.Loopback, out HandshakeSource source, out _));
        Assert.False(Enter(limiter, "192.0.2.1"));

        limiter.Exit(source);

        Assert.Equal(0, limiter.Active);
        Assert.True(Enter(limiter, "192.0.2.1"));
    }

    [Theory]
    [InlineData(nameof(SecureChannelListenerOptions.MaxHandshakesPerPrefix))]
    [InlineData(nameof(SecureChannelListenerOptions.IPv4PrefixLength))]
    [InlineData(nameof(SecureChannelListenerOptions.IPv6PrefixLength))]
    [InlineData(nameof(SecureChannelListenerOptions.HandshakesPerSecondPerPrefix))]
    [InlineData(nameof(SecureChannelListenerOptions.HandshakeBurstPerPrefix))]
    [InlineData(nameof(SecureChannelListenerOptions.FirstByteTimeout))]
    [InlineData(nameof(SecureChannelListenerOptions.ReservedForKnownSources))]
    public void Validate_OptionOutOfRange_NamesIt(string option)
    {
        var options = new SecureChannelListenerOptions();
        switch (option)
        {
            case nameof(options.MaxHandshakesPerPrefix): options.MaxHandshakesPerPrefix = 65; break;
            case nameof(options.IPv4PrefixLength): options.IPv4PrefixLength = 33; break;
            case nameof(options.IPv6PrefixLength): options.IPv6PrefixLength = -1; break;
            case nameof(options.HandshakesPerSecondPerPrefix): options.HandshakesPerSecondPerPrefix = 0; break;
            case nameof(options.HandshakeBurstPerPrefix): options.HandshakeBurstPerPrefix = 0; break;
            case nameof(options.FirstByteTimeout): options.FirstByteTimeout = TimeSpan.Zero; break;
            default: options.ReservedForKnownSources = 65; break;
        }

        ArgumentException error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(option, error.ParamName);
        Assert.StartsWith($"SecureChannelListenerOptions.{option} is ", error.Message, StringComparison.Ordinal);
    }

    private HandshakeLimiter Limiter(SecureChannelListenerOptions options)
    {
        options.Validate();
        return new HandshakeLimiter(options, _time);
    }

    private static bool Enter(HandshakeLimiter limiter, string address) => limiter.TryEnter(IPAddress.Parse(address), out _, out _);

    private static bool EnterAndExit(HandshakeLimiter limiter, string address)
    {
        if (!limiter.TryEnter(IPAddress.Parse(address), out HandshakeSource source, out _))
        {
            return false;
        }

        limiter.Exit(source);
        return true;
    }
}
