using System.Security.Cryptography;
using System.Text;

namespace Herald.Server.Auth;

/// <summary>
/// The operator's key, which manages merchants: given by <c>HERALD_ADMIN_KEY</c>, or generated on
/// first start and kept in the data folder (readable by its owner only). Nodes sharing a PostgreSQL
/// database share it too: its hash is kept in the database, and every node accepts the key kept
/// there (<see cref="ShareAsync"/>), following it when another node replaces it (<see cref="Follow"/>).
/// </summary>
public sealed class AdminKey
{
    public const string FileName = "admin.key";

    /// <summary>The fewest characters a key given in <c>HERALD_ADMIN_KEY</c> may have.</summary>
    public const int MinimumLength = 24;

    private readonly string _dataDirectory;
    private readonly bool _configured;
    private volatile string? _hash;
    private string? _own;

    private AdminKey(string dataDirectory, string? key, bool configured, string? path)
    {
        _dataDirectory = dataDirectory;
        _configured = configured;
        _hash = key is null ? null : ApiKeys.Hash(key);
        _own = _hash;
        Path = path;
    }

    /// <summary>A key made at this start, to be shown once; null otherwise.</summary>
    public string? Shown { get; private set; }

    /// <summary>The folder's key file, removed at this start because <c>HERALD_ADMIN_KEY</c> replaces the key it kept; null otherwise.</summary>
    public string? Removed { get; private set; }

    /// <summary>The file the key is kept in; null when it was configured or is the database's.</summary>
    public string? Path { get; private set; }

    /// <summary>
    /// Whether this node's own key (the one given, or its folder's) is the key the shared database
    /// keeps for every node, since this start: one given replaces what was kept; a folder's is kept
    /// where nothing was (or was kept by this folder's earlier starts).
    /// </summary>
    public bool SharedOwn => _shared && _hash is { } hash && hash == _own && Shown is null;

    private bool _shared;

    /// <summary>Whether the key given (<c>HERALD_ADMIN_KEY</c>) replaced another the shared database kept before this start.</summary>
    public bool ReplacedShared { get; private set; }

    /// <summary>Whether the key accepted is not this node's own but one another node kept in the shared database.</summary>
    public bool FromDatabase => _hash is { } hash && hash != _own;

    /// <summary>
    /// The key given, else the one in the data folder's <see cref="FileName"/>, else (when
    /// <paramref name="shared"/> is false) a new one written there. A node on a shared database
    /// without either waits for <see cref="ShareAsync"/>, which may find one another node made.
    /// </summary>
    public static AdminKey Resolve(string? configured, string dataDirectory, bool shared = false)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            // It manages every merchant, and on PostgreSQL replaces the key of every node: a short
            // one (a placeholder, a typo) is refused rather than taken.
            if (configured.Trim().Length < MinimumLength)
            {
                throw new ArgumentException($"HERALD_ADMIN_KEY is too short to be a secret: give at least {MinimumLength} characters (the key Herald makes itself has {NewKey().Length})");
            }
            var given = new AdminKey(dataDirectory, configured.Trim(), configured: true, path: null);
            // On SQLite a key kept in the folder before is replaced, not kept beside: left there it
            // would work again at a start without the variable, and go into backups.
            var kept = System.IO.Path.Combine(dataDirectory, FileName);
            if (!shared && File.Exists(kept) && File.ReadAllText(kept).Trim() != configured.Trim())
            {
                File.Delete(kept);
                given.Removed = kept;
            }
            return given;
        }
        Herald.Storage.Sqlite.SqliteStoreOptions.CreateDataDirectory(dataDirectory);
        var path = System.IO.Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            return new AdminKey(dataDirectory, File.ReadAllText(path).Trim(), configured: false, path);
        }
        var key = new AdminKey(dataDirectory, null, configured: false, path: null);
        if (!shared)
        {
            key.Adopt(NewKey());
        }
        return key;
    }

    /// <summary>
    /// Settles the key with the shared database, given a function that keeps a key's hash there
    /// (replacing what is kept, or only where nothing is) and answers the hash kept. Only a key the
    /// operator gives (<c>HERALD_ADMIN_KEY</c>) replaces the one kept; a key in this node's folder is
    /// kept only where none is (the node goes on accepting it); a node with neither takes the
    /// database's, or makes one when the database has none, writing it to its folder only once the
    /// database has taken it, so a start that fails midway leaves no key that nobody was shown.
    /// <paramref name="keptBefore"/>: the hash the database kept before this start, if any, read
    /// only to say whether a key given replaced another (<see cref="ReplacedShared"/>).
    /// </summary>
    public async Task ShareAsync(Func<string, bool, Task<string>> keep, string? keptBefore = null)
    {
        ArgumentNullException.ThrowIfNull(keep);
        if (_hash is { } own)
        {
            // A key of this node's folder that another node's kept first gives way to it.
            _hash = await keep(own, _configured).ConfigureAwait(false);
            _shared = true;
            ReplacedShared = _configured && keptBefore is not null && keptBefore != own;
            return;
        }
        var made = NewKey();
        var hash = ApiKeys.Hash(made);
        var kept = await keep(hash, false).ConfigureAwait(false);
        if (kept == hash)
        {
            Adopt(made);
            return;
        }
        _hash = kept;
    }

    /// <summary>Accepts from now on the key whose hash the shared database keeps (another node may have replaced it).</summary>
    public void Follow(string keptHash)
    {
        ArgumentException.ThrowIfNullOrEmpty(keptHash);
        _hash = keptHash;
    }

    /// <summary>Whether the key presented is the admin key (compared by hash, in constant time).</summary>
    public bool Matches(string presented) => MatchesHash(ApiKeys.Hash(presented));

    /// <summary>Whether a key whose <see cref="ApiKeys.Hash(string)"/> is <paramref name="presentedHash"/> is the admin key (in constant time).</summary>
    public bool MatchesHash(string presentedHash) =>
        _hash is { } hash && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(presentedHash), Encoding.ASCII.GetBytes(hash));

    private static string NewKey() => "hk_admin_" + ApiKeys.NewKey()[ApiKeys.Prefix.Length..];

    /// <summary>Writes a key made at this start to the data folder (its owner alone may read it) and takes it.</summary>
    private void Adopt(string key)
    {
        var path = System.IO.Path.Combine(_dataDirectory, FileName);
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(path, fileOptions))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(key);
        }
        _hash = ApiKeys.Hash(key);
        _own = _hash;
        Shown = key;
        Path = path;
    }
}
