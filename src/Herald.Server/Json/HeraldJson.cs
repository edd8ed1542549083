using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Herald.Errors;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Json;

/// <summary>
/// Strict reading of request bodies: unknown fields, duplicate keys, wrong types, bad UTF-8 and
/// over-deep documents are refused with a message naming the field.
/// </summary>
public static class HeraldJson
{
    /// <summary>Herald's own resources: snake_case.</summary>
    public static JsonSerializerOptions Api { get; } = Create(JsonNamingPolicy.SnakeCaseLower);

    /// <summary>Seed 003's transaction fields: camelCase, as the seed writes them.</summary>
    public static JsonSerializerOptions Seed { get; } = Create(JsonNamingPolicy.CamelCase);

    private static JsonSerializerOptions Create(JsonNamingPolicy naming)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = naming,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            AllowDuplicateProperties = false,
            MaxDepth = 32,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            NumberHandling = JsonNumberHandling.Strict,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
            // Secrets (base64 '+') and names (accents) read as they are; the output is still valid JSON.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new TextConverter());
        options.Converters.Add(new DecimalConverter());
        options.Converters.Add(new WholeNumberConverter<int>());
        options.Converters.Add(new WholeNumberConverter<long>());
        options.Converters.Add(new TreeConverter<JsonNode>());
        options.Converters.Add(new TreeConverter<JsonObject>());
        options.Converters.Add(new TreeConverter<JsonArray>());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private const string NulRefused = "a text may not contain the NUL character (\\u0000)";

    // The same words for the same fault, whether it lies in a typed field or in a free-form tree.
    private const string NotUtf8 = "malformed JSON: the body is not valid UTF-8";
    private const string NotUtf8Name = "malformed JSON: a field's name is not valid UTF-8";
    private const string NotUnicode = "malformed JSON: a text is not valid Unicode (a lone surrogate)";

    private const string TooPrecise = "a number may have at most 28 significant digits and 28 decimal places";

    private const string NotWhole = "a whole number is expected";

    /// <summary>What is wrong with a value the serializer read, in words told as they are (with the value's path).</summary>
    private sealed class RefusedValue(string what) : JsonException(what);

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

    /// <summary>
    /// A text field as it is, unless it holds the NUL character: PostgreSQL's text refuses it, so
    /// the same request would be stored on SQLite and fail on PostgreSQL. Refused on both alike.
    /// </summary>
    private sealed class TextConverter : JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString();
            return text is not null && text.Contains('\0', StringComparison.Ordinal) ? throw new RefusedValue(NulRefused) : text;
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }

    /// <summary>
    /// A free-form part of a body (a transaction, an intent, a preference's items) read as a JSON
    /// tree with every object's keys and every text checked first. The serializer's own tree reader
    /// answers a key given twice with the dictionary's error (no field, no path), which would have
    /// been a 500.
    /// </summary>
    private sealed class TreeConverter<T> : JsonConverter<T>
        where T : JsonNode
    {
        public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var element = JsonElement.ParseValue(ref reader);
            Check(element, []);
            var nodeOptions = new JsonNodeOptions { PropertyNameCaseInsensitive = options.PropertyNameCaseInsensitive };
            JsonNode? node = element.ValueKind switch
            {
                JsonValueKind.Object => JsonObject.Create(element, nodeOptions),
                JsonValueKind.Array => JsonArray.Create(element, nodeOptions),
                JsonValueKind.Null => null,
                _ => JsonValue.Create(element, nodeOptions),
            };
            // Anything else than the tree asked for is the serializer's "could not be converted".
            return node as T ?? (node is null ? null : throw new JsonException());
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => value.WriteTo(writer, options);

        /// <summary>Refuses a key given twice and a text that is not Unicode; <paramref name="where"/> is the way there from the tree's start (a name or an index a step), made into a path only for the error.</summary>
        private static void Check(JsonElement element, List<object> where)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    HashSet<string>? seen = null;
                    foreach (var property in element.EnumerateObject())
                    {
                        string name;
                        try
                        {
                            name = property.Name;
                        }
                        catch (InvalidOperationException)
                        {
                            throw new TreeException(NotUtf8, Path(where));
                        }
                        where.Add(name);
                        if (!(seen ??= new HashSet<string>(StringComparer.Ordinal)).Add(name))
                        {
                            throw new TreeException("duplicate field", Path(where));
                        }
                        Check(property.Value, where);
                        where.RemoveAt(where.Count - 1);
                    }
                    break;
                case JsonValueKind.Array:
                    var index = 0;
                    foreach (var item in element.EnumerateArray())
                    {
                        where.Add(index++);
                        Check(item, where);
                        where.RemoveAt(where.Count - 1);
                    }
                    break;
                case JsonValueKind.String:
                    var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element);
                    // Checked where it lies; a text with escapes is also read (a lone surrogate's escape fails then).
                    if (!System.Text.Unicode.Utf8.IsValid(raw))
                    {
                        throw new TreeException(NotUtf8, Path(where));
                    }
                    if (raw.Contains((byte)'\\') && !Reads(element))
                    {
                        throw new TreeException(NotUnicode, Path(where));
                    }
                    break;
            }
        }

        private static bool Reads(JsonElement element)
        {
            try
            {
                _ = element.GetString();
                return true;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }

        /// <summary>The way from the tree's start as the serializer writes a path: .name, ['name'] for a name with characters a path treats apart, [index].</summary>
        private static string Path(List<object> where)
        {
            var path = new System.Text.StringBuilder();
            foreach (var step in where)
            {
                if (step is int index)
                {
                    path.Append('[').Append(index.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(']');
                }
                else if (((string)step).AsSpan().ContainsAny(PathSpecial))
                {
                    path.Append("['").Append(((string)step).Replace("'", "\\'", StringComparison.Ordinal)).Append("']");
                }
                else
                {
                    path.Append('.').Append((string)step);
                }
            }
            return path.ToString();
        }
    }

    /// <summary>The characters for which a JSON path writes a name in brackets, as System.Text.Json's own paths do.</summary>
    private static readonly System.Buffers.SearchValues<char> PathSpecial = System.Buffers.SearchValues.Create("$ .'/\"[]()\t\n\r\f\b\\\u0085\u2028\u2029");

    /// <summary>What is wrong inside a JSON tree; <see cref="JsonException.Path"/> is where the tree begins, <see cref="Within"/> the rest of the way.</summary>
    private sealed class TreeException(string what, string within) : JsonException
    {
        public string What { get; } = what;

        public string Within { get; } = within;
    }

    private const string NotAnObject = "the request body must be a JSON object";
    private const string NoJson = "the request body holds no JSON: it must be a JSON object";

    /// <summary>What a body sent as anything but JSON is told (415).</summary>
    public const string NotJson = "the request body must be JSON: send Content-Type: application/json";

    /// <summary>Reads and validates the request body as <typeparamref name="T"/>.</summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request, JsonSerializerOptions? options = null) =>
        await ReadOrNullAsync<T>(request, options) ?? throw new HeraldException(ErrorKind.BadRequest, NotAnObject);

    /// <summary>
    /// For a route whose body is optional: none, or JSON's <c>null</c> (what a generated client, NSwag's,
    /// sends for an optional body left out), is <paramref name="none"/>; any other body is read as
    /// <see cref="ReadAsync{T}"/> reads it.
    /// </summary>
    public static async Task<T> ReadOptionalAsync<T>(HttpRequest request, T none) =>
        await HasBodyAsync(request) ? await ReadOrNullAsync<T>(request, options: null) ?? none : none;

    private static async Task<T?> ReadOrNullAsync<T>(HttpRequest request, JsonSerializerOptions? options)
    {
        ArgumentNullException.ThrowIfNull(request);
        // application/json and nothing else (no type at all, a form, text, a +json dialect), in
        // UTF-8: a body read as JSON is read as UTF-8 whatever charset it names.
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new HeraldException(ErrorKind.UnsupportedMediaType, NotJson);
        }
        var charset = Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(type.Charset);
        if (charset.HasValue && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            throw new HeraldException(ErrorKind.UnsupportedMediaType, $"the request body must be JSON in UTF-8, not {HeraldException.Quote(charset.Value)}: send Content-Type: application/json");
        }
        if (request.Headers.ContentEncoding is { Count: > 0 } encoding && !encoding.All(e => "identity".Equals(e?.Trim(), StringComparison.OrdinalIgnoreCase)))
        {
            throw new HeraldException(ErrorKind.UnsupportedMediaType, "the request body must be sent uncompressed: send no Content-Encoding");
        }
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, options ?? Api, request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new HeraldException(ErrorKind.BadRequest, Describe(e, null, typeof(T), options ?? Api));
        }
    }

    /// <summary>
    /// Whether the request carries a body: a length above 0, or a body sent in chunks (or without a
    /// length) that holds at least a byte, which is then read again from its start.
    /// </summary>
    public static async Task<bool> HasBodyAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength is { } length)
        {
            return length > 0;
        }
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false)
        {
            return false;
        }
        request.EnableBuffering();
        var first = new byte[1];
        var read = await request.Body.ReadAsync(first, request.HttpContext.RequestAborted);
        request.Body.Position = 0;
        return read > 0;
    }

    /// <summary>
    /// For a route that takes no body: none, or an empty JSON object. Anything else is refused as
    /// any body is (not JSON, malformed, a field, too large) before the route does anything.
    /// </summary>
    public static async Task RefuseBodyAsync(HttpRequest request)
    {
        if (await HasBodyAsync(request))
        {
            try
            {
                await ReadAsync<Herald.Server.Api.NoBodyRequest>(request);
            }
            catch (HeraldException e) when (e.Messages is [var only] && only.StartsWith("unknown field ", StringComparison.Ordinal))
            {
                // A field where none is taken: the route, not the field, is what the client has wrong.
                throw new HeraldException(ErrorKind.BadRequest, $"this route takes no body: send none, or {{}} ({only})");
            }
        }
    }

    /// <summary>Validates an already parsed object (a request's body, <paramref name="where"/>) as <typeparamref name="T"/>.</summary>
    public static T Validate<T>(JsonObject node, JsonSerializerOptions options, string where) => Validate<T>(node, options, where, root: null);

    /// <summary>
    /// Validates a member of a request's body, <paramref name="field"/>, as <typeparamref name="T"/>:
    /// what is wrong is named by its path in the body (<c>$.data.customer.name</c>).
    /// </summary>
    public static T ValidateField<T>(JsonObject node, JsonSerializerOptions options, string field) => Validate<T>(node, options, field, root: "$." + field);

    private static T Validate<T>(JsonObject node, JsonSerializerOptions options, string where, string? root)
    {
        ArgumentNullException.ThrowIfNull(node);
        try
        {
            return node.Deserialize<T>(options) ?? throw new HeraldException(ErrorKind.BadRequest, $"{where} must be an object");
        }
        catch (JsonException e)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{where}: {Describe(e, root, typeof(T), options)}");
        }
    }

    /// <summary>
    /// What is wrong, and where: under <paramref name="root"/> when the node read is a member of the
    /// body; a value of the wrong type says what its field takes, found in <paramref name="type"/>.
    /// </summary>
    private static string Describe(JsonException e, string? root, Type type, JsonSerializerOptions options)
    {
        var at = root is null || string.IsNullOrEmpty(e.Path) ? e.Path : root + e.Path[1..];
        if (e is TreeException tree)
        {
            return $"{tree.What} at {(string.IsNullOrEmpty(at) ? root ?? "$" : at)}{tree.Within}";
        }
        var path = string.IsNullOrEmpty(at) || at == "$" ? "" : $" at {at}";
        var message = e.Message;
        if (e is RefusedValue)
        {
            return message + path;
        }
        for (Exception? inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Text.DecoderFallbackException || inner.Message.Contains("UTF-8", StringComparison.OrdinalIgnoreCase)
                || inner.Message.Contains("transcode", StringComparison.OrdinalIgnoreCase))
            {
                return NotUtf8 + path;
            }
            if (inner.Message.Contains("UTF-16", StringComparison.OrdinalIgnoreCase))
            {
                return NotUnicode + path;
            }
        }
        if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            var start = message.IndexOf('\'', StringComparison.Ordinal);
            var end = start >= 0 ? message.IndexOf('\'', start + 1) : -1;
            var name = start >= 0 && end > start ? message[(start + 1)..end] : "?";
            // The reader puts U+FFFD for the bytes of a name that are not UTF-8; a client hardly
            // sends that character itself, and a field so named is unknown either way.
            return name.Contains('\uFFFD', StringComparison.Ordinal) ? NotUtf8Name : $"unknown field {HeraldException.Quote(name)}{path}";
        }
        if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
        {
            return $"duplicate field{path}";
        }
        if (message.Contains("missing required properties", StringComparison.Ordinal) || message.Contains("missing required", StringComparison.Ordinal))
        {
            var colon = message.IndexOf("including:", StringComparison.Ordinal);
            var names = colon >= 0 ? message[(colon + 10)..].Trim().TrimEnd('.') : "";
            return $"missing required field {names}{path}".Replace("  ", " ", StringComparison.Ordinal);
        }
        if (message.Contains("null", StringComparison.OrdinalIgnoreCase)
            && (message.Contains("non-nullable", StringComparison.OrdinalIgnoreCase) || message.Contains("allow null", StringComparison.Ordinal) || message.Contains("allow setting null", StringComparison.Ordinal)))
        {
            return $"a value may not be null{path}";
        }
        if (message.StartsWith("The input does not contain any JSON tokens", StringComparison.Ordinal) && root is null)
        {
            return NoJson;
        }
        if (message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            return "the JSON document is nested too deeply";
        }
        if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            // Every body is an object: one that is a list, a text or a number is wrong as a whole.
            return path.Length == 0 && root is null ? NotAnObject
                : ExpectedValue.At(type, options, e.Path) is { } expected ? $"{expected} is expected{path}"
                : $"wrong type of value{path}";
        }
        return $"malformed JSON{path}{Where(e)}";
    }

    /// <summary>
    /// Where in the body the reader stopped, and why in its own words (<c> (line 1, byte 52): '0' is
    /// invalid after a value…</c>), for a body that is no JSON; empty when the reader gave no place.
    /// </summary>
    private static string Where(JsonException e)
    {
        if (e.LineNumber is not { } line || e.BytePositionInLine is not { } column)
        {
            return "";
        }
        var reason = e.Message;
        foreach (var tail in (string[])[" Path: ", " LineNumber: "])
        {
            if (reason.IndexOf(tail, StringComparison.Ordinal) is var cut and >= 0)
            {
                reason = reason[..cut];
            }
        }
        // Advice for the reader's own programmer is not the client's.
        reason = reason.Replace(" which is not supported in this mode. Change the reader options", "", StringComparison.Ordinal).Trim().TrimEnd('.');
        return reason.Length == 0 || reason.Contains("could not be converted", StringComparison.Ordinal)
            ? $" (line {line + 1}, byte {column + 1})"
            : $" (line {line + 1}, byte {column + 1}): {reason}";
    }
}
