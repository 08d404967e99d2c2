"""Hand-written main texts of the forum, documentation and product pages.

Forum bodies hold posts: (user, blocks); every post is main text, the user panels and
signatures around them are not. Other bodies use the blocks of bodies_news_blog.py.
"""

FORUMS = [
    ("forum-en-boiler", "forum", "en", "Boiler pressure keeps dropping overnight", [
        ("dave_k", [("p", "Our combi boiler loses pressure every night. I top it up to 1.5 bar in the evening and by morning it reads about 0.6. There are no visible leaks under any of the radiators. Is this the expansion vessel or something else?")]),
        ("heating_pro", [("p", "Most likely the expansion vessel has lost its air charge, or the pressure relief valve is passing. Check the small copper pipe that goes outside from the boiler: if it drips after you top up, it is the relief valve."), ("p", "The vessel can be recharged with a bicycle pump if it has a Schrader valve, but the system has to be drained down first.")]),
        ("dave_k", [("p", "You were right, the outside pipe was wet this morning. I will get the valve replaced. Thanks for the quick answer.")]),
    ]),
    ("forum-en-python", "forum", "en", "Pandas groupby returns NaN for columns that have values", [
        ("newcoder42", [("p", "I group a data frame by region and take the mean of sales, but some groups come back as NaN even though every row has a number. What am I missing?"), ("pre", "df.groupby('region')['sales'].mean()")]),
        ("mkl", [("p", "Check the dtype of the sales column. If it was read from a CSV with a thousands separator, it is probably object, and some values are strings like '1,200'. Convert it first:"), ("pre", "df['sales'] = pd.to_numeric(df['sales'].str.replace(',', ''), errors='coerce')"), ("p", "Then look at which rows became NaN after the conversion; those are the ones with odd formatting.")]),
        ("newcoder42", [("p", "That was it. Three rows had a trailing space and a currency sign. Works now.")]),
        ("dataq", [("p", "For the future, pass thousands=',' to read_csv and it will handle the separator for you.")]),
    ]),
    ("forum-de-fahrrad", "forum", "de", "Kette springt nach Wechsel der Kassette", [
        ("radler_m", [("p", "Ich habe an meinem Trekkingrad die Kassette getauscht, die Kette aber behalten. Jetzt springt sie unter Last auf den mittleren Ritzeln. Muss die Kette auch neu?")]),
        ("werkstatt_ost", [("p", "Sehr wahrscheinlich ja. Eine gelängte Kette passt nicht mehr zu neuen Ritzeln. Miss die Kette mit einer Kettenlehre: ab 0,5 Prozent Längung sollte sie bei 11-fach gewechselt werden."), ("p", "Wenn man Kette und Kassette zusammen tauscht, hält die Kassette meistens zwei bis drei Ketten lang.")]),
        ("radler_m", [("p", "Die Lehre fällt sofort durch. Dann kaufe ich eine neue Kette, danke!")]),
    ]),
    ("forum-fr-cuisine", "forum", "fr", "Ma pâte à crêpes est toujours pleine de grumeaux", [
        ("lea_b", [("p", "Je mélange farine, œufs et lait d'un coup et j'obtiens toujours des grumeaux, même en fouettant longtemps. Une astuce ?")]),
        ("chef_amateur", [("p", "Il faut verser le lait petit à petit. Fais un puits dans la farine, ajoute les œufs, mélange, puis le lait en filet en fouettant. Si des grumeaux restent, passe la pâte au chinois."), ("p", "Et laisse reposer une heure, la pâte sera plus souple.")]),
        ("mamie_jo", [("p", "Moi je mets tout dans le blender trente secondes. Aucun grumeau et pas de vaisselle en plus.")]),
    ]),
    ("forum-es-movil", "forum", "es", "El móvil se calienta mucho al cargar", [
        ("jorge_88", [("p", "Desde hace una semana el teléfono se calienta muchísimo cuando lo cargo, sobre todo por la noche. ¿Puede ser la batería o el cargador?")]),
        ("tecnico_ana", [("p", "Prueba primero con otro cable y otro cargador de buena calidad. Si con otro cargador también se calienta, revisa en ajustes qué aplicaciones usan batería en segundo plano: una copia de seguridad de fotos puede hacer que trabaje mucho mientras carga."), ("p", "Si la batería está hinchada o el calor es excesivo, deja de usarlo y llévalo al servicio técnico.")]),
        ("jorge_88", [("p", "Era la copia de seguridad de la galería. La he programado solo con wifi y ya no pasa.")]),
    ]),
    ("forum-pl-kot", "forum", "pl", "Kot nie chce jeść nowej karmy", [
        ("ania_k", [("p", "Zmieniłam karmę na zalecenie weterynarza, ale kot od dwóch dni prawie nic nie je. Czy mam wrócić do starej?")]),
        ("marek_wet", [("p", "Zmianę karmy najlepiej robić stopniowo przez tydzień lub dwa, mieszając coraz więcej nowej ze starą. Jeśli kot nie je nic przez ponad dobę, trzeba skontaktować się z lekarzem, bo u kotów głodówka jest niebezpieczna dla wątroby.")]),
        ("ania_k", [("p", "Dziękuję, zaczęłam mieszać pół na pół i dzisiaj zjadł całą miskę.")]),
    ]),
]

DOCS = [
    ("docs-en-cli-install", "docs", "en", "Installing the command-line tool", [
        ("p", "The command-line tool runs on Linux, macOS and Windows. It needs Python 3.10 or newer and about 50 MB of disk space."),
        ("h2", "Install with pip"),
        ("pre", "python -m pip install --upgrade mytool\nmytool --version"),
        ("p", "If the `mytool` command is not found after installing, the scripts directory of your Python installation is not on your `PATH`. On Linux and macOS it is usually `~/.local/bin`."),
        ("h2", "Configuration file"),
        ("p", "On first run the tool creates a configuration file. Its location depends on the platform:"),
        ("table", [["Platform", "Location"], ["Linux", "~/.config/mytool/config.toml"], ["macOS", "~/Library/Application Support/mytool/config.toml"], ["Windows", "%APPDATA%\\mytool\\config.toml"]]),
        ("p", "Every setting can also be given as an environment variable prefixed with `MYTOOL_`, which takes precedence over the file."),
    ]),
    ("docs-en-api-auth", "docs", "en", "Authentication", [
        ("p", "All API requests must be authenticated with a token sent in the `Authorization` header. Tokens are created in the account settings and can be limited to read-only access."),
        ("pre", "curl -H \"Authorization: Bearer $TOKEN\" https://api.example.com/v2/projects"),
        ("h2", "Token scopes"),
        ("table", [["Scope", "Allows"], ["read", "Listing and reading projects and files"], ["write", "Creating and changing projects and files"], ["admin", "Managing members and billing"]]),
        ("h2", "Errors"),
        ("p", "A missing or invalid token returns status 401. A valid token without the required scope returns 403 with the name of the missing scope in the response body."),
        ("p", "Tokens expire after 90 days. Requests made with an expired token return 401 and the header `Token-Expired: true`, so clients can ask the user to renew it."),
    ]),
    ("docs-en-sql-join", "docs", "en", "Joining tables", [
        ("p", "A join combines rows from two tables based on a related column. The most common form is the inner join, which returns only the rows that have a match in both tables."),
        ("pre", "SELECT orders.id, customers.name\nFROM orders\nJOIN customers ON customers.id = orders.customer_id;"),
        ("p", "A left join returns every row of the left table, and fills the columns of the right table with NULL where there is no match. Use it to find, for example, customers who never placed an order:"),
        ("pre", "SELECT customers.name\nFROM customers\nLEFT JOIN orders ON orders.customer_id = customers.id\nWHERE orders.id IS NULL;"),
        ("h2", "Performance"),
        ("p", "Joins are fast when the joined columns are indexed. Without an index the database may have to compare every row of one table with every row of the other."),
    ]),
    ("docs-de-router", "docs", "de", "Router einrichten: Portweiterleitung", [
        ("p", "Mit einer Portweiterleitung erreichen Sie einen Dienst in Ihrem Heimnetz, zum Beispiel einen Webserver, auch von außerhalb. Der Router leitet eingehende Verbindungen auf einem bestimmten Port an ein Gerät im Netz weiter."),
        ("ol", ["Öffnen Sie die Oberfläche des Routers im Browser.", "Wählen Sie Internet, dann Freigaben.", "Klicken Sie auf Gerät für Freigaben hinzufügen und wählen Sie das Gerät aus.", "Tragen Sie den externen und den internen Port ein und speichern Sie."]),
        ("p", "Geben Sie dem Gerät eine feste IP-Adresse, damit die Weiterleitung nach einem Neustart noch stimmt. Öffnen Sie nur die Ports, die Sie wirklich brauchen."),
    ]),
    ("docs-fr-git", "docs", "fr", "Annuler le dernier commit", [
        ("p", "Si vous avez fait un commit trop tôt ou avec un mauvais message, plusieurs commandes permettent de revenir en arrière. Le choix dépend de si le commit a déjà été poussé vers un dépôt partagé."),
        ("h2", "Commit non poussé"),
        ("pre", "git reset --soft HEAD~1"),
        ("p", "Cette commande annule le commit mais garde les modifications dans l'index, prêtes à être validées à nouveau."),
        ("h2", "Commit déjà poussé"),
        ("pre", "git revert HEAD"),
        ("p", "Ne réécrivez pas l'historique d'une branche partagée : créez plutôt un nouveau commit qui annule le précédent, comme le fait git revert."),
    ]),
    ("docs-ja-setup", "docs", "ja", "開発環境のセットアップ", [
        ("p", "このページでは、プロジェクトをローカルでビルドするための手順を説明します。作業は三十分ほどで終わります。"),
        ("ol", ["リポジトリをクローンします。", "依存パッケージをインストールします。", "テストを実行して、すべて成功することを確認します。"]),
        ("pre", "git clone https://example.com/project.git\ncd project\nmake install\nmake test"),
        ("p", "テストが失敗する場合は、Python のバージョンを確認してください。バージョン 3.10 以上が必要です。"),
    ]),
]

PRODUCTS = [
    ("shop-en-kettle", "product", "en", "Stainless steel electric kettle, 1.7 litres", [
        ("p", "A quiet, fast kettle with a brushed stainless steel body and a concealed heating element that is easy to keep clean. It boils one litre of water in about three minutes."),
        ("ul", ["Five temperature settings for green tea, coffee and baby food", "Keep-warm function for thirty minutes", "Automatic shut-off and boil-dry protection", "Removable limescale filter"]),
        ("table", [["Specification", "Value"], ["Capacity", "1.7 l"], ["Power", "2200 W"], ["Cable length", "75 cm"], ["Weight", "1.1 kg"]]),
        ("p", "The base turns through 360 degrees, so the kettle can be lifted and set down from either side."),
    ]),
    ("shop-en-backpack", "product", "en", "Trail 28 daypack", [
        ("p", "A 28-litre daypack for long walks and light scrambles. The ventilated back panel keeps air moving, and the hip belt carries most of the weight when the pack is full."),
        ("ul", ["Separate sleeve for a three-litre water bladder", "Integrated rain cover in the base pocket", "Two stretch side pockets for bottles", "Loops for walking poles"]),
        ("table", [["Specification", "Value"], ["Volume", "28 l"], ["Weight", "980 g"], ["Back length", "46 to 52 cm, adjustable"], ["Material", "Recycled polyamide"]]),
    ]),
    ("shop-de-lampe", "product", "de", "LED-Schreibtischlampe mit Dimmer", [
        ("p", "Die Schreibtischlampe leuchtet den Arbeitsplatz gleichmäßig und blendfrei aus. Helligkeit und Lichtfarbe lassen sich über das Touchfeld am Fuß stufenlos einstellen."),
        ("ul", ["Lichtfarbe von 2700 bis 6500 Kelvin", "USB-Ladeanschluss im Fuß", "Schwenkbarer Arm und drehbarer Kopf", "Timer für automatisches Ausschalten nach einer Stunde"]),
        ("table", [["Merkmal", "Wert"], ["Leistung", "9 W"], ["Lichtstrom", "600 lm"], ["Höhe", "42 cm"], ["Farbe", "Mattschwarz"]]),
    ]),
    ("shop-fr-chaise", "product", "fr", "Chaise de bureau ergonomique", [
        ("p", "Une chaise pensée pour les longues journées de travail : le dossier en maille suit la courbure du dos et le soutien lombaire se règle en hauteur."),
        ("ul", ["Accoudoirs réglables dans quatre directions", "Assise coulissante de cinq centimètres", "Mécanisme synchrone avec blocage en trois positions"]),
        ("table", [["Caractéristique", "Valeur"], ["Hauteur d'assise", "44 à 54 cm"], ["Charge maximale", "120 kg"], ["Garantie", "5 ans"]]),
        ("p", "Livrée prémontée : il suffit de fixer le dossier avec quatre vis."),
    ]),
    ("shop-es-cafetera", "product", "es", "Cafetera de goteo programable", [
        ("p", "Prepara hasta doce tazas de café y mantiene la jarra caliente durante dos horas. El temporizador permite dejarla programada por la noche para tener el café listo al despertar."),
        ("ul", ["Filtro permanente lavable", "Función antigoteo al retirar la jarra", "Selector de intensidad"]),
        ("table", [["Característica", "Valor"], ["Capacidad", "1,5 l"], ["Potencia", "1000 W"], ["Dimensiones", "25 x 20 x 35 cm"]]),
    ]),
    ("shop-pt-tenis", "product", "pt", "Ténis de corrida leves", [
        ("p", "Ténis leves e respiráveis para treinos diários em estrada. A entressola amortece o impacto sem perder a resposta na passada, e a sola de borracha tem boa aderência em piso molhado."),
        ("ul", ["Cabedal em malha respirável", "Palmilha removível", "Drop de oito milímetros"]),
        ("table", [["Característica", "Valor"], ["Peso", "240 g (tamanho 42)"], ["Uso", "Estrada e passadeira"]]),
    ]),
]
