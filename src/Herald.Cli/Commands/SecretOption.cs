using System.CommandLine;

namespace Herald.Cli.Commands;

/// <summary>
/// An option whose value may be a secret (a connection string with its password, an API key), taken
/// from an environment variable when it is not given. The variable is read only when the command
/// runs, never made the option's default: help prints every option's default, and what a terminal or
/// a CI log shows must not hold the password; the help names the variable instead.
/// </summary>
internal sealed class SecretOption : Option<string?>
{
    private readonly string _variable;

    public SecretOption(string name, string description, string variable)
        : base(name)
    {
        _variable = variable;
        Description = $"{description}; default: {variable}.";
    }

    /// <summary>The value given, else the environment variable's (null when neither is).</summary>
    public string? ValueIn(ParseResult parse) => parse.GetValue(this) ?? Environment.GetEnvironmentVariable(_variable);

    /// <summary>Refuses, in one line, a value given blank or the variable set blank (see <see cref="CommonOptions.RefuseBlank"/>).</summary>
    public void RefuseBlank(Command command, string what, string leftOut) =>
        CommonOptions.RefuseBlank(command, this, _variable, what, leftOut);
}
