-- {{name}} (down): undo what {{name}}.up.sql does.

