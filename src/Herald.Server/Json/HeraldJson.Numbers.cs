using System.Text.Json;
using System.Text.Json.Serialization;

namespace Herald.Server.Json;

// Strict reading: numbers kept as written, or refused with what is expected.
public static partial class HeraldJson
{
    /// <summary>
    /// A decimal as written, unless a decimal cannot hold it exactly (past 28 decimal places, or
    /// more digits than its 96 bits): the serializer would round it without a word, and an amount
    /// must be stored as it was sent.
    /// </summary>
    private sealed class DecimalConverter : JsonConverter<decimal>
    {
        private static readonly System.Numerics.BigInteger MaxMantissa = System.Numerics.BigInteger.Pow(2, 96);

        public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.Number)
            {
                // The serializer's own words for a wrong type, with the field's path.
                throw new JsonException();
            }
            var raw = reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan;
            if (!FitsExactly(raw))
            {
                throw new RefusedValue(TooLarge(raw) ? OutOfRange : TooPrecise);
            }
            return reader.TryGetDecimal(out var value) ? value : throw new JsonException();
        }

        public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options) => writer.WriteNumberValue(value);

        private static readonly string OutOfRange = $"a number between -{decimal.MaxValue} and {decimal.MaxValue} is expected";

        /// <summary>Whether a number a decimal cannot hold is beyond its range (its whole part too large), not merely too precise.</summary>
        private static bool TooLarge(ReadOnlySpan<byte> number)
        {
            if (Decompose(number) is not { } value)
            {
                // An exponent beyond an int's: too large when it is positive.
                var text = System.Text.Encoding.ASCII.GetString(number);
                return !text[(text.IndexOfAny(['e', 'E']) + 1)..].StartsWith('-');
            }
            var wholeDigits = value.Digits.Length + value.Power;
            if (wholeDigits <= 0)
            {
                return false;
            }
            if (wholeDigits > 30)
            {
                return true;
            }
            var whole = System.Numerics.BigInteger.Parse(value.Power >= 0 ? value.Digits : value.Digits[..(int)wholeDigits], System.Globalization.CultureInfo.InvariantCulture)
                * System.Numerics.BigInteger.Pow(10, (int)Math.Max(0, value.Power));
            return whole > new System.Numerics.BigInteger(decimal.MaxValue);
        }

        /// <summary>Whether a JSON number is some m * 10^-s with m below 2^96 and s at most 28, as a decimal is.</summary>
        private static bool FitsExactly(ReadOnlySpan<byte> number)
        {
            if (Decompose(number) is not { } value)
            {
                return false;
            }
            if (value.Digits.Length == 0)
            {
                return true;
            }
            if (value.Power < -28 || value.Power > 28)
            {
                return false;
            }
            var m = System.Numerics.BigInteger.Parse(value.Digits, System.Globalization.CultureInfo.InvariantCulture);
            if (value.Power > 0)
            {
                m *= System.Numerics.BigInteger.Pow(10, (int)value.Power);
            }
            return m < MaxMantissa;
        }
    }

    /// <summary>
    /// A whole number however JSON writes it: 1, 1.0, 1e0 and 10E-1 are one number, and a client
    /// that keeps every number as a double sends 100.0 for 100, so a field that counts or names
    /// something takes each form and keeps the number plainly. Refused: a fraction, and a number
    /// beyond the field's range (which the serializer would otherwise call a wrong type).
    /// </summary>
    private sealed class WholeNumberConverter<T> : JsonConverter<T>
        where T : struct, System.Numerics.IBinaryInteger<T>, System.Numerics.IMinMaxValue<T>
    {
        // The bound that was passed, alone: a field counting something names no negative bound.
        private static readonly string TooLarge = $"a whole number no larger than {T.MaxValue} is expected";
        private static readonly string TooSmall = $"a whole number no smaller than {T.MinValue} is expected";

        private static string OutOfRange(bool negative) => negative ? TooSmall : TooLarge;

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.Number)
            {
                // The serializer's own words for a wrong type, with the field's path.
                throw new JsonException();
            }
            // Written plainly, as nearly every client writes it: read as it is, with nothing to decompose.
            if (reader.TryGetInt64(out var plain))
            {
                return plain >= long.CreateChecked(T.MinValue) && plain <= long.CreateChecked(T.MaxValue)
                    ? T.CreateChecked(plain)
                    : throw new RefusedValue(OutOfRange(plain < 0));
            }
            var raw = reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan;
            if (Decompose(raw) is not { } value)
            {
                // An exponent beyond an int's: far past any field's range, or far below its units.
                throw new RefusedValue(OutOfRange(raw.Length > 0 && raw[0] == (byte)'-'));
            }
            if (value.Power < 0)
            {
                throw new RefusedValue(NotWhole);
            }
            if (value.Power > 20)
            {
                throw new RefusedValue(OutOfRange(value.Negative));
            }
            var whole = System.Numerics.BigInteger.Parse("0" + value.Digits, System.Globalization.CultureInfo.InvariantCulture)
                * System.Numerics.BigInteger.Pow(10, (int)value.Power);
            if (value.Negative)
            {
                whole = -whole;
            }
            return whole < System.Numerics.BigInteger.CreateChecked(T.MinValue) || whole > System.Numerics.BigInteger.CreateChecked(T.MaxValue)
                ? throw new RefusedValue(OutOfRange(value.Negative))
                : T.CreateChecked(whole);
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteNumberValue(long.CreateChecked(value));
    }

    /// <summary>
    /// A JSON number as ±<c>Digits</c> × 10^<c>Power</c>, its digits without leading or trailing
    /// zeros (none for 0), so that its value is judged whatever form it was written in. Null when
    /// its exponent is too large for any number a field keeps (beyond an int's), such as 1e99999.
    /// </summary>
    private static (bool Negative, string Digits, long Power)? Decompose(ReadOnlySpan<byte> number)
    {
        var text = System.Text.Encoding.ASCII.GetString(number);
        var e = text.IndexOfAny(['e', 'E']);
        var exponent = 0L;
        if (e >= 0 && !long.TryParse(text.AsSpan(e + 1), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out exponent))
        {
            return null;
        }
        var mantissa = e >= 0 ? text[..e] : text;
        var point = mantissa.IndexOf('.', StringComparison.Ordinal);
        var digits = (point >= 0 ? mantissa.Remove(point, 1) : mantissa).TrimStart('-');
        var fraction = point >= 0 ? mantissa.Length - point - 1 : 0;
        var trimmed = digits.TrimEnd('0');
        var significant = trimmed.TrimStart('0');
        if (significant.Length == 0)
        {
            return (false, "", 0);
        }
        // An exponent near a long's end would wrap once the fraction is taken from it.
        if (exponent is < int.MinValue or > int.MaxValue)
        {
            return null;
        }
        return (mantissa.StartsWith('-'), significant, exponent - fraction + (digits.Length - trimmed.Length));
    }
}
