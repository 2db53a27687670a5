-- {{name}} (up). The matching {{name}}.down.sql undoes it.

