using Herald.Entities;

namespace Herald.Core.Tests.Entities;

public class IsoCodesTests
{
    [Theory]
    [InlineData("BRL")]
    [InlineData("ARS")]
    [InlineData("MXN")]
    [InlineData("EUR")]
    [InlineData("XCG")]
    [InlineData("ZWG")]
    public void ACurrencyInUse_IsListed(string code) => Assert.Contains(code, IsoCodes.Currencies);

    [Theory]
    [InlineData("ZZZ")]
    [InlineData("HRK")]
    [InlineData("BGN")]
    [InlineData("brl")]
    public void ACodeOfNoCurrencyInUse_IsNot(string code) => Assert.DoesNotContain(code, IsoCodes.Currencies);

    [Theory]
    [InlineData("BR")]
    [InlineData("GB")]
    [InlineData("AR")]
    [InlineData("MX")]
    public void TheSeedsCountries_AreListed(string code) => Assert.Contains(code, IsoCodes.Countries);

    [Theory]
    [InlineData("UK")]
    [InlineData("EU")]
    [InlineData("Brazil")]
    [InlineData("br")]
    public void AReservedCodeOrAName_IsNoCountry(string code) => Assert.DoesNotContain(code, IsoCodes.Countries);

    [Fact]
    public void TheLists_HoldCodesOfTheirFormOnly()
    {
        Assert.All(IsoCodes.Currencies, c => Assert.Matches("^[A-Z]{3}$", c));
        Assert.All(IsoCodes.Countries, c => Assert.Matches("^[A-Z]{2}$", c));
        Assert.Equal(249, IsoCodes.Countries.Count);
    }
}
